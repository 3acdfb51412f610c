"""The pharmacokinetic layer: linear mammillary compartments for parent and metabolite.

States (per patient; amounts in mg, concentrations in ng/mL, AUCs in ng*h/mL)::

    depot_<route>_<pathway>           drug on its way to the circulation as parent
    depot_<route>_<pathway>_fp        drug on its way that first pass turns into metabolite
    parent_central, parent_periph2, parent_periph3       amounts (arterial central)
    parent_venous, parent_effect      venous sampling site and brain effect site (ng/mL)
    metabolite_central, _periph2, _periph3, _venous, _effect   the same for the metabolite
    auc_<analyte>_<site>              running AUC of each reported concentration

Equations (patient axis first; ``C1 = 1000 * A1 / V1`` in ng/mL)::

    dA_depot/dt  = -ka * A_depot                       (+ zero-order input)
    dA1/dt       = sum ka * A_depot - (CL + Q2 + Q3)/V1 * A1 + Q2/V2 * A2 + Q3/V3 * A3
    dA2/dt       = Q2/V1 * A1 - Q2/V2 * A2,    dA3/dt = Q3/V1 * A1 - Q3/V3 * A3
    dM1/dt       = fm * MWm/MWp * CL/V1 * A1 + MWm/MWp * sum ka * A_fp - ...   (same shape)
    dC_ven/dt    = k_venous * (C1 - C_ven),    dC_e/dt = ke0 * (C1 - C_e)
    dAUC/dt      = C_site

The system is linear, dy/dt = K y + u(t): :func:`rate_matrix` builds K for every patient at
once (shape patients x states x states), so its Jacobian is K itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ketasim.data.spec import Disposition, Drug, Parameter, Pathway

#: Sites reported for each analyte (``arterial`` only where the central compartment is arterial).
SITES: tuple[str, ...] = ("plasma", "arterial", "brain")


@dataclass(frozen=True)
class PathwayRef:
    """A pathway of a route used by a regimen."""

    route: str
    name: str
    spec: Pathway

    @property
    def state(self) -> str:
        return f"depot_{self.route}_{self.name}"

    @property
    def fp_state(self) -> str:
        return f"depot_{self.route}_{self.name}_fp"


@dataclass(frozen=True)
class DispositionValues:
    """One compartment set, per patient (arrays of shape (patients,)).

    Volumes in L, clearances in L/h, rates in 1/h; ``None`` where a compartment is absent.
    """

    v1: np.ndarray
    cl: np.ndarray
    v2: np.ndarray | None
    q2: np.ndarray | None
    v3: np.ndarray | None
    q3: np.ndarray | None
    k_venous: np.ndarray | None
    ke0: np.ndarray
    kp_brain: float


def _scaled(
    p: Parameter, weight_kg: np.ndarray, reference_kg: float, exponent: float, unit: str
) -> np.ndarray:
    """A volume or clearance for each patient: per-kg values times weight, or allometry."""
    if p.is_per_kg():
        return p.to(f"{unit}/kg") * weight_kg
    return p.to(unit) * (weight_kg / reference_kg) ** exponent


def disposition_values(
    d: Disposition,
    weight_kg: np.ndarray,
    reference_kg: float,
    cl_factor: np.ndarray,
    v_factor: np.ndarray,
) -> DispositionValues:
    """Per-patient disposition: weight scaling (V ~ W, CL ~ W^0.75) and variability factors."""

    def vol(p: Parameter | None) -> np.ndarray | None:
        return None if p is None else _scaled(p, weight_kg, reference_kg, 1.0, "L") * v_factor

    def clr(p: Parameter | None) -> np.ndarray | None:
        return None if p is None else _scaled(p, weight_kg, reference_kg, 0.75, "L/h") * cl_factor

    ones = np.ones_like(weight_kg)
    v1 = vol(d.v1)
    cl = clr(d.cl)
    assert v1 is not None
    assert cl is not None
    return DispositionValues(
        v1=v1,
        cl=cl,
        v2=vol(d.v2),
        q2=clr(d.q2),
        v3=vol(d.v3),
        q3=clr(d.q3),
        k_venous=None if d.k_venous is None else d.k_venous.to("1/h") * ones,
        ke0=d.ke0.to("1/h") * ones,
        kp_brain=1.0 if d.kp_brain is None else d.kp_brain.to("dimensionless"),
    )


@dataclass(frozen=True)
class PkStructure:
    """Which states a drug, species and set of routes need, in a fixed order."""

    parent: str
    metabolite: str | None
    pathways: tuple[PathwayRef, ...]
    n_parent_compartments: int
    n_metabolite_compartments: int
    has_venous: bool
    metabolite_has_venous: bool
    sampling: str

    @property
    def sites(self) -> tuple[str, ...]:
        """Reported sites: the central compartment is arterial unless the model was fitted to
        venous samples without a venous delay (then ``plasma`` is the central compartment)."""
        central_is_arterial = self.has_venous or self.sampling == "arterial"
        return SITES if central_is_arterial else ("plasma", "brain")

    @property
    def analytes(self) -> tuple[str, ...]:
        return (self.parent,) if self.metabolite is None else (self.parent, self.metabolite)

    @property
    def state_names(self) -> tuple[str, ...]:
        names: list[str] = []
        for pw in self.pathways:
            names.append(pw.state)
            if pw.spec.first_pass_metabolite is not None and self.metabolite is not None:
                names.append(pw.fp_state)
        names += self._compartments("parent", self.n_parent_compartments, self.has_venous)
        if self.metabolite is not None:
            names += self._compartments(
                "metabolite", self.n_metabolite_compartments, self.metabolite_has_venous
            )
        for analyte in self.analytes:
            names += [f"auc_{analyte}_{site}" for site in self.sites]
        return tuple(names)

    @staticmethod
    def _compartments(prefix: str, n: int, venous: bool) -> list[str]:
        names = [f"{prefix}_central", f"{prefix}_periph2", f"{prefix}_periph3"][:n]
        return [*names, *([f"{prefix}_venous"] if venous else []), f"{prefix}_effect"]

    def index(self, name: str) -> int:
        return self.state_names.index(name)


def _n_compartments(d: Disposition) -> int:
    return 1 + (d.v2 is not None) + (d.v3 is not None)


def metabolite_disposition(drug: Drug, species: str, metabolite: Drug | None) -> Disposition | None:
    """The metabolite's disposition: the parent file's override, else the metabolite's own."""
    spk = drug.species[species]
    if spk.metabolite_disposition is not None:
        return spk.metabolite_disposition
    if metabolite is None or species not in metabolite.species:
        return None
    return metabolite.species[species].disposition


def build_structure(
    drug: Drug, species: str, metabolite: Drug | None, routes: tuple[str, ...]
) -> PkStructure:
    """The states needed for ``drug`` in ``species`` given the routes a regimen uses."""
    spk = drug.species[species]
    pathways = tuple(
        PathwayRef(route, name, pw)
        for route in routes
        if route in spk.routes
        for name, pw in spk.routes[route].pathways.items()
    )
    met_disp = metabolite_disposition(drug, species, metabolite)
    has_met = metabolite is not None and met_disp is not None and spk.fm is not None
    return PkStructure(
        parent=drug.analyte,
        metabolite=drug.metabolite_analyte if has_met else None,
        pathways=pathways,
        n_parent_compartments=_n_compartments(spk.disposition),
        n_metabolite_compartments=_n_compartments(met_disp) if has_met and met_disp else 0,
        has_venous=spk.disposition.k_venous is not None,
        metabolite_has_venous=bool(has_met and met_disp and met_disp.k_venous is not None),
        sampling=spk.sampling,
    )


@dataclass(frozen=True)
class PkValues:
    """All per-patient numbers of the PK layer (arrays of shape (patients,))."""

    parent: DispositionValues
    metabolite: DispositionValues | None
    fm: float
    mw_ratio: float
    ka: dict[str, np.ndarray]


def _fill_compartments(
    K: np.ndarray, idx: dict[str, int], prefix: str, d: DispositionValues, has_venous: bool
) -> None:
    c = idx[f"{prefix}_central"]
    k10 = d.cl / d.v1
    K[:, c, c] -= k10
    for n, (v, q) in {"periph2": (d.v2, d.q2), "periph3": (d.v3, d.q3)}.items():
        if v is None or q is None:
            continue
        p = idx[f"{prefix}_{n}"]
        K[:, c, c] -= q / d.v1
        K[:, p, c] += q / d.v1
        K[:, c, p] += q / v
        K[:, p, p] -= q / v
    conc = 1000.0 / d.v1  # mg in V1 (L) -> ng/mL
    e = idx[f"{prefix}_effect"]
    K[:, e, c] += d.ke0 * conc
    K[:, e, e] -= d.ke0
    if has_venous and d.k_venous is not None:
        ven = idx[f"{prefix}_venous"]
        K[:, ven, c] += d.k_venous * conc
        K[:, ven, ven] -= d.k_venous


def rate_matrix(s: PkStructure, v: PkValues) -> np.ndarray:
    """K of dy/dt = K y + u for every patient: shape (patients, states, states)."""
    names = s.state_names
    idx = {n: i for i, n in enumerate(names)}
    n_pat = v.parent.v1.shape[0]
    K = np.zeros((n_pat, len(names), len(names)))
    pc = idx["parent_central"]
    for pw in s.pathways:
        ka = v.ka[pw.state]
        d = idx[pw.state]
        K[:, d, d] -= ka
        K[:, pc, d] += ka
        if pw.fp_state in idx:
            f = idx[pw.fp_state]
            K[:, f, f] -= ka
            K[:, idx["metabolite_central"], f] += ka * v.mw_ratio
    _fill_compartments(K, idx, "parent", v.parent, s.has_venous)
    if s.metabolite is not None and v.metabolite is not None:
        mc = idx["metabolite_central"]
        K[:, mc, pc] += v.fm * v.mw_ratio * v.parent.cl / v.parent.v1
        _fill_compartments(K, idx, "metabolite", v.metabolite, s.metabolite_has_venous)
    # running AUCs of each site's concentration (rows are linear readings of the states)
    for analyte, prefix, disp in _analyte_prefixes(s, v):
        for site in s.sites:
            K[:, idx[f"auc_{analyte}_{site}"], :] += _reading(s, idx, prefix, disp, site)
    return K


def _analyte_prefixes(s: PkStructure, v: PkValues) -> list[tuple[str, str, DispositionValues]]:
    out = [(s.parent, "parent", v.parent)]
    if s.metabolite is not None and v.metabolite is not None:
        out.append((s.metabolite, "metabolite", v.metabolite))
    return out


def _reading(
    s: PkStructure, idx: dict[str, int], prefix: str, d: DispositionValues, site: str
) -> np.ndarray:
    """Row vector(s) r with concentration = r . y, per patient: shape (patients, states)."""
    n_pat = d.v1.shape[0]
    r = np.zeros((n_pat, len(idx)))
    has_venous = s.has_venous if prefix == "parent" else s.metabolite_has_venous
    if site == "arterial" or (site == "plasma" and (s.sampling == "arterial" or not has_venous)):
        r[:, idx[f"{prefix}_central"]] = 1000.0 / d.v1
    elif site == "plasma":
        r[:, idx[f"{prefix}_venous"]] = 1.0
    elif site == "brain":
        r[:, idx[f"{prefix}_effect"]] = d.kp_brain
    else:
        raise ValueError(site)
    return r


def concentrations(s: PkStructure, v: PkValues, y: np.ndarray) -> dict[str, np.ndarray]:
    """Concentrations (ng/mL) ``<analyte>_<site>`` from states ``y`` (patients, times, states)."""
    idx = {n: i for i, n in enumerate(s.state_names)}
    out: dict[str, np.ndarray] = {}
    for analyte, prefix, disp in _analyte_prefixes(s, v):
        for site in s.sites:
            r = _reading(s, idx, prefix, disp, site)
            out[f"{analyte}_{site}"] = np.einsum("pts,ps->pt", y, r)
    return out


def aucs(s: PkStructure, y: np.ndarray) -> dict[str, np.ndarray]:
    """Running AUCs (ng*h/mL) ``<analyte>_<site>``: shape (patients, times)."""
    idx = {n: i for i, n in enumerate(s.state_names)}
    return {f"{a}_{site}": y[:, :, idx[f"auc_{a}_{site}"]] for a in s.analytes for site in s.sites}
