"""Time constants of the LTC neurons along a replay (the paper's tau = cm / (g_leak + sum w s)).

For neuron i at frame t, with potentials v (the replayed ``neurons``) and the sensory inputs
x (the replayed ``features`` through the cell's affine input map, x * input_w + input_b):

    g_i(t)   = sum_j  mask_ji  w_ji  sigmoid(sigma_ji  (v_j(t) - mu_ji))          (neurons j -> i)
             + sum_k smask_ki sw_ki sigmoid(ssigma_ki (x_k(t) - smu_ki))          (sensory k -> i)
    tau_i(t) = cm_i / (g_leak_i + g_i(t))  *  time_unit_s

Matrices are indexed ``[source, target]`` as in ncps. ``cm`` is in the cell's time unit (ncps
divides it by ``elapsed / ode_unfolds``; our exporter feeds ``elapsed_s / frame_period_s``, so
one unit is one nominal frame period), hence ``time_unit_s`` turns tau into seconds. The
sensory sum is left out when no features (or no sensory parameters) are given.

The parameters travel in the model's metadata under :data:`LTC_METADATA_KEY` (JSON written by
:meth:`LtcParameters.to_metadata`), because exporters give initializers arbitrary names.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.errors import AuditError
from ncp_driver.audit.figures import new_figure
from ncp_driver.audit.neurons import NeuronLayout
from ncp_driver.ltc_parameters import LTC_METADATA_KEY, LtcParameters

__all__ = [
    "LTC_METADATA_KEY",
    "LtcParameters",
    "ltc_derivative",
    "ltc_time_constants",
    "plot_time_constants",
    "synaptic_conductance",
    "time_constants",
]

_CHUNK = 2048  # frames per block, to bound memory at frames x sources x targets


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def synaptic_conductance(
    presynaptic: np.ndarray,
    w: np.ndarray,
    sigma: np.ndarray,
    mu: np.ndarray,
    mask: np.ndarray,
) -> np.ndarray:
    """sum_p mask_pi w_pi sigmoid(sigma_pi (pre_p - mu_pi)): (N, P) potentials -> (N, K)."""
    pre = np.asarray(presynaptic, dtype=np.float64)
    weight = np.asarray(w, dtype=np.float64) * np.abs(np.asarray(mask, dtype=np.float64))
    sigma = np.asarray(sigma, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    if pre.ndim != 2 or weight.ndim != 2 or pre.shape[1] != weight.shape[0]:
        raise AuditError(
            f"presynaptic activity {pre.shape} does not match synapse matrices {weight.shape} "
            "([source, target])"
        )
    if sigma.shape != weight.shape or mu.shape != weight.shape:
        raise AuditError(f"sigma {sigma.shape} and mu {mu.shape} must be {weight.shape}")
    out = np.empty((pre.shape[0], weight.shape[1]))
    for start in range(0, pre.shape[0], _CHUNK):
        block = pre[start : start + _CHUNK, :, None]
        out[start : start + _CHUNK] = np.sum(weight * _sigmoid(sigma * (block - mu)), axis=1)
    return out


def time_constants(
    potentials: np.ndarray,
    cm: np.ndarray,
    gleak: np.ndarray,
    w: np.ndarray,
    sigma: np.ndarray,
    mu: np.ndarray,
    mask: np.ndarray,
    *,
    sensory_conductance: np.ndarray | None = None,
    time_unit_s: float = 1.0,
) -> np.ndarray:
    """tau (N, K) = cm / (g_leak + recurrent conductance [+ sensory conductance]) * time_unit_s."""
    v = np.asarray(potentials, dtype=np.float64)
    cm = np.asarray(cm, dtype=np.float64)
    gleak = np.asarray(gleak, dtype=np.float64)
    if v.ndim != 2 or cm.shape != (v.shape[1],) or gleak.shape != cm.shape:
        raise AuditError(
            f"potentials {v.shape} need cm and g_leak of shape ({v.shape[-1]},), got "
            f"{cm.shape} and {gleak.shape}"
        )
    conductance = gleak + synaptic_conductance(v, w, sigma, mu, mask)
    if sensory_conductance is not None:
        if sensory_conductance.shape != v.shape:
            raise AuditError(
                f"sensory conductance {sensory_conductance.shape} must match {v.shape}"
            )
        conductance = conductance + sensory_conductance
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = cm / conductance * float(time_unit_s)
    return np.where(conductance > 0, tau, np.inf)


def _check_activity(
    params: LtcParameters, potentials: np.ndarray, features: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    v = np.asarray(potentials, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != params.units:
        raise AuditError(
            f"the model's LTC cell has {params.units} neurons; the replay has activity {v.shape}"
        )
    if features is None or not params.has_sensory:
        return v, None
    x = params.sensory_inputs(features)
    if x.ndim != 2 or x.shape[0] != v.shape[0]:
        raise AuditError(f"features {x.shape} and potentials {v.shape} differ in frames")
    return v, x


def ltc_time_constants(
    params: LtcParameters,
    potentials: np.ndarray,
    features: np.ndarray | None = None,
) -> np.ndarray:
    """tau (N, K) in seconds along a replay; the sensory synapses count when features are given."""
    v, x = _check_activity(params, potentials, features)
    sensory = None
    if x is not None:
        sensory = synaptic_conductance(
            x,
            np.asarray(params.sensory_w),
            np.asarray(params.sensory_sigma),
            np.asarray(params.sensory_mu),
            np.asarray(params.sensory_mask),
        )
    return time_constants(
        v,
        params.cm,
        params.gleak,
        params.w,
        params.sigma,
        params.mu,
        params.mask,
        sensory_conductance=sensory,
        time_unit_s=params.time_unit_s,
    )


def ltc_derivative(
    params: LtcParameters, potentials: np.ndarray, features: np.ndarray | None = None
) -> np.ndarray:
    """dv/dt (N, K) in 1/s: (g_leak (v_leak - v) + sum g_syn (E - v)) / cm / time_unit_s.

    The LTC's ODE, whose decay rate is 1/tau; comparing it with a tiny step of the exported
    cell checks that the parameters in the metadata are the ones in the graph.
    """
    v, x = _check_activity(params, potentials, features)
    current = np.asarray(params.gleak) * (np.asarray(params.vleak) - v)
    sources = [(v, params.w, params.sigma, params.mu, params.mask, params.erev)]
    if x is not None:
        sources.append(
            (
                x,
                np.asarray(params.sensory_w),
                np.asarray(params.sensory_sigma),
                np.asarray(params.sensory_mu),
                np.asarray(params.sensory_mask),
                np.asarray(params.sensory_erev),
            )
        )
    for pre, w, sigma, mu, mask, erev in sources:
        conductance = synaptic_conductance(pre, w, sigma, mu, mask)
        reversal = synaptic_conductance(pre, np.asarray(w) * np.asarray(erev), sigma, mu, mask)
        current = current + reversal - conductance * v
    return current / np.asarray(params.cm) / params.time_unit_s


def plot_time_constants(
    stamp: np.ndarray, tau: np.ndarray, layout: NeuronLayout, title: str = "LTC time constants"
) -> Figure:
    """log10 tau of every neuron over time, and each neuron's distribution (box plot)."""
    order = layout.display_order()
    t = stamp - (stamp[0] if stamp.size else 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_tau = np.log10(np.where(np.isfinite(tau) & (tau > 0), tau, np.nan))
    fig = new_figure(11.0, 7.0)
    heat_ax, box_ax = fig.subplots(2, 1, height_ratios=(1.2, 1.0))
    if t.size:
        image = heat_ax.imshow(
            log_tau[:, order].T,
            aspect="auto",
            interpolation="nearest",
            cmap="magma",
            extent=(float(t[0]), float(t[-1]) if t.size > 1 else 1.0, len(order) - 0.5, -0.5),
        )
        fig.colorbar(image, ax=heat_ax, label="log10 tau (s)")
    heat_ax.set_yticks(range(len(order)), [layout.labels[i] for i in order], fontsize=7)
    heat_ax.set_xlabel("time (s)")
    heat_ax.set_title(title)
    columns = [log_tau[np.isfinite(log_tau[:, i]), i] for i in order]
    box_ax.boxplot(columns, showfliers=False)
    box_ax.set_xticks(
        range(1, len(order) + 1), [layout.labels[i] for i in order], rotation=90, fontsize=7
    )
    box_ax.set_ylabel("log10 tau (s)")
    steps = np.diff(t)
    steps = steps[np.isfinite(steps) & (steps > 0)]
    if steps.size:  # below one frame a neuron follows its inputs within the frame
        frame = float(np.median(steps))
        box_ax.axhline(np.log10(frame), color="0.3", ls="--", lw=1)
        box_ax.annotate(
            f"one frame ({frame:.3g} s)",
            (1.0, np.log10(frame)),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="0.3",
        )
    return fig
