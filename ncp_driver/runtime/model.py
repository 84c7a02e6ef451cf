"""An exported steering model in onnxruntime: validated, on the chosen provider, carrying its state.

Compute only (openpilot's ModelState pattern): buffers in, outputs out. The caller writes the
preprocessed frame into :attr:`SteeringModel.frame_input` and calls :meth:`SteeringModel.step`
with the elapsed time; resets and timing are the pipeline's business.

Two ways to run, both with IO binding to preallocated buffers (no allocation per frame):

- host (CPU): the state lives in a numpy buffer bound as the ``state`` input; ``state_out`` is
  bound to another and copied back after each run (S floats).
- device (CUDA, TensorRT): the state lives in two device OrtValues used in turn as ``state`` and
  ``state_out`` (ping-pong, four prebuilt bindings), so it never leaves the GPU; the frame and
  the elapsed time are bound from host buffers and copied in by onnxruntime on its own stream;
  a reset or an injected state feeds the state from a host buffer for one run. This path runs
  on CPU OrtValues in the tests; on a GPU it is untested in this repository's CI.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np
import onnxruntime as ort

from ncp_driver.contract import (
    INPUT_ELAPSED,
    INPUT_FRAME,
    INPUT_STATE,
    OUTPUT_CURVATURE,
    OUTPUT_FEATURES,
    OUTPUT_NEURONS,
    OUTPUT_STATE,
    ModelContract,
)
from ncp_driver.errors import MissingModelError, ModelContractError, ProviderError
from ncp_driver.runtime.config import PipelineConfig

__all__ = [
    "OFFLINE_CONFIG",
    "PROVIDER_NAMES",
    "SteeringModel",
    "StepModel",
    "StepOutput",
    "check_starts_finite",
    "load_contract",
    "open_session",
    "provider_plan",
    "running_provider",
    "session_contract",
]

PROVIDER_NAMES = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
_SHORT_NAMES = {value: key for key, value in PROVIDER_NAMES.items()}
_FLOAT = "tensor(float)"


class StepOutput(NamedTuple):
    """One step's outputs. ``neurons`` and ``features`` are views, overwritten by the next step."""

    curvature: float
    neurons: np.ndarray
    features: np.ndarray
    finite: bool  # every output (and the new state) is finite


class StepModel(Protocol):
    """What :class:`~ncp_driver.runtime.SteeringPipeline` needs of a model.

    :class:`SteeringModel` is the car's; the replay's ``SplitModel`` computes the same steps with
    the conv head batched.
    """

    contract: ModelContract
    provider: str
    model_hash: str

    @property
    def frame_input(self) -> np.ndarray: ...

    def reset_state(self) -> None: ...

    def step(self, elapsed_s: float, frame: np.ndarray | None = None) -> StepOutput: ...


def provider_plan(config: PipelineConfig) -> list[str]:
    """The requested providers this onnxruntime has, in order; :class:`ProviderError` if a GPU
    provider is missing and ``allow_provider_fallback`` is off, or if none is left."""
    available = ort.get_available_providers()
    plan: list[str] = []
    for short in config.providers:
        if PROVIDER_NAMES[short] in available:
            plan.append(short)
        elif not config.allow_provider_fallback:
            raise ProviderError(
                f"provider {short!r} ({PROVIDER_NAMES[short]}) was asked for but this onnxruntime "
                f"{ort.__version__} offers only {available}: install onnxruntime-gpu (with "
                "CUDA/TensorRT libraries), or set allow_provider_fallback, or list only 'cpu'"
            )
    if not plan:
        raise ProviderError(
            f"none of the providers {list(config.providers)} is available in this onnxruntime "
            f"(it offers {available}): add 'cpu' to providers"
        )
    return plan


def _provider_entries(
    plan: list[str], config: PipelineConfig, model_dir: Path
) -> list[str | tuple[str, dict[str, Any]]]:
    entries: list[str | tuple[str, dict[str, Any]]] = []
    device = str(config.gpu_device_id)
    for short in plan:
        if short == "tensorrt":
            cache = Path(config.trt_cache_dir) if config.trt_cache_dir else model_dir
            cache.mkdir(parents=True, exist_ok=True)
            entries.append(
                (
                    PROVIDER_NAMES[short],
                    {
                        "device_id": device,
                        "trt_engine_cache_enable": "True",
                        "trt_engine_cache_path": str(cache),
                        "trt_timing_cache_enable": "True",
                        "trt_timing_cache_path": str(cache),
                    },
                )
            )
        elif short == "cuda":
            entries.append(
                (
                    PROVIDER_NAMES[short],
                    {
                        "device_id": device,
                        "cudnn_conv_algo_search": "EXHAUSTIVE",  # tuned once during warm-up
                        "do_copy_in_default_stream": "True",
                    },
                )
            )
        else:
            entries.append(PROVIDER_NAMES[short])
    return entries


def _session_options(config: PipelineConfig) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = config.intra_op_threads
    options.inter_op_num_threads = 1
    return options


OFFLINE_CONFIG = PipelineConfig(intra_op_threads=0)  # tools off the car: CPU, onnxruntime's threads


def open_session(
    model: str | Path | bytes,
    config: PipelineConfig | None = None,
    model_dir: Path | None = None,
    source: str | None = None,
) -> ort.InferenceSession:
    """An onnxruntime session of ``model`` (a path or the file's bytes) on the configured
    providers: the one way to open a model, on the car and in every tool (``config`` defaults
    to :data:`OFFLINE_CONFIG`; ``model_dir`` holds the TensorRT cache, by default the model's
    folder). :class:`ProviderError` if the first provider asked for and available did not start
    (unless ``allow_provider_fallback``), :class:`ModelContractError` if it does not load."""
    config = config or OFFLINE_CONFIG
    if isinstance(model, Path):
        model = str(model)
    if source is None:
        source = model if isinstance(model, str) else "<model bytes>"
    if model_dir is None:
        model_dir = Path(model).parent if isinstance(model, str) else Path.cwd()
    plan = provider_plan(config)
    try:
        session = ort.InferenceSession(
            model,
            sess_options=_session_options(config),
            providers=_provider_entries(plan, config, model_dir),
        )
    except Exception as exc:  # onnxruntime raises several unrelated types here
        raise ModelContractError(
            f"{source} is not an ONNX model onnxruntime can load: {exc}"
        ) from exc
    running = session.get_providers()[0]
    if running != PROVIDER_NAMES[plan[0]] and not config.allow_provider_fallback:
        raise ProviderError(
            f"{source}: asked for {plan[0]!r} but onnxruntime runs the model on {running} "
            "(the provider failed to start: check the CUDA, cuDNN and TensorRT libraries "
            "in onnxruntime's log), or set allow_provider_fallback"
        )
    return session


def session_contract(session: ort.InferenceSession, source: str) -> ModelContract:
    """The :class:`ModelContract` in an open session's metadata (``ModelContractError`` if invalid)."""
    return ModelContract.from_metadata(session.get_modelmeta().custom_metadata_map, source=source)


def load_contract(path: Path | str) -> ModelContract:
    """The :class:`ModelContract` of an exported model file, read through :func:`open_session`."""
    if not Path(path).is_file():
        raise MissingModelError(
            f"{path} {_not_a_file(Path(path))}: give an ONNX model exported by ncp-export"
        )
    return session_contract(open_session(Path(path)), str(path))


def _not_a_file(path: Path) -> str:
    """Why ``path`` cannot be read as a model file (for messages)."""
    return "is a directory, not a model file" if path.is_dir() else "does not exist"


def running_provider(session: ort.InferenceSession) -> str:
    """The provider that runs ``session``, by its short name (``cpu``, ``cuda``, ``tensorrt``)."""
    running = session.get_providers()[0]
    return _SHORT_NAMES.get(running, running)


def _dims(shape: Any) -> list[int | None]:
    return [d if isinstance(d, int) and d > 0 else None for d in shape]


def check_io(session: ort.InferenceSession, contract: ModelContract, source: str) -> None:
    """Raise :class:`ModelContractError` naming the first input or output that breaks the contract."""
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name: o for o in session.get_outputs()}
    h, w, c = contract.preprocessing.input_shape
    width = {
        INPUT_FRAME: [h, w, c],
        INPUT_STATE: [contract.state_size],
        INPUT_ELAPSED: [1],
        OUTPUT_CURVATURE: [1],
        OUTPUT_STATE: [contract.state_size],
        OUTPUT_NEURONS: [contract.neuron_count],
        OUTPUT_FEATURES: [contract.feature_count],
    }
    for role, found, wanted in (
        ("input", inputs, contract.input_names()),
        ("output", outputs, contract.output_names()),
    ):
        for name in wanted:
            if name not in found:
                raise ModelContractError(
                    f"{source} declares kind {contract.kind} but has no {role} {name!r}; "
                    f"a {contract.kind} model needs the {role}s {list(wanted)}: re-export it"
                )
    extra = sorted(set(inputs) - set(contract.input_names()))
    if extra:
        what = (
            "a stateless model must not take a state"
            if INPUT_STATE in extra
            else "the runtime cannot feed them"
        )
        raise ModelContractError(
            f"{source} (kind {contract.kind}) has inputs {extra} outside the contract: {what}"
        )
    for name in (*contract.input_names(), *contract.output_names()):
        arg = inputs.get(name) or outputs[name]
        if arg.type != _FLOAT:
            raise ModelContractError(f"{source}: {name!r} is {arg.type}; the contract says float32")
        dims = _dims(arg.shape)
        expected = width[name]
        if len(dims) != 1 + len(expected):
            raise ModelContractError(
                f"{source}: {name!r} has shape {arg.shape}; the contract says [batch, "
                f"{', '.join(map(str, expected))}]"
            )
        if dims[0] not in (None, 1):
            raise ModelContractError(
                f"{source}: {name!r} has a fixed batch of {dims[0]}; export it with batch 1 or dynamic"
            )
        for got, want in zip(dims[1:], expected, strict=True):
            if got is not None and got != want:
                raise ModelContractError(
                    f"{source}: {name!r} has shape {arg.shape} but its metadata implies [batch, "
                    f"{', '.join(map(str, expected))}]: the contract and the graph disagree; re-export"
                )


def check_starts_finite(model: StepModel, elapsed_s: float, source: str) -> None:
    """Refuse a model whose first step, a mid-grey frame from a zero state, is not finite.

    Run at every start, whatever ``warmup_runs`` says (NaN or infinite weights would otherwise
    start a node that never commands, or a replay that fails at its end). The state is reset
    afterwards; the frame buffer is left zero.
    """
    model.reset_state()
    grey = np.full(model.frame_input.shape, 0.5, np.float32)
    out = model.step(elapsed_s, frame=grey)
    finite = out.finite and math.isfinite(out.curvature)
    model.reset_state()
    model.frame_input.fill(0.0)
    if not finite:
        raise ModelContractError(
            f"{source}: the model's outputs are not finite on a mid-grey frame from a zero state "
            f"(curvature {out.curvature}): its weights hold NaN or infinite values, or it "
            "overflows; refusing to start. Re-export it from a good checkpoint"
        )


class _HostRunner:
    """IO binding to numpy buffers; the state is copied from ``state_out`` back to ``state``."""

    def __init__(self, session: ort.InferenceSession, contract: ModelContract) -> None:
        self._session = session
        self._stateful = contract.stateful
        size = contract.state_size if contract.stateful else 0
        self.frame = np.zeros((1, *contract.preprocessing.input_shape), np.float32)
        self.elapsed = np.zeros((1, 1), np.float32)
        self.state = np.zeros((1, size), np.float32)
        # All outputs in one buffer: one finiteness check covers them.
        self.outputs = np.zeros(
            1 + size + contract.neuron_count + contract.feature_count, np.float32
        )
        self.curvature = self.outputs[0:1].reshape(1, 1)
        self.state_out = self.outputs[1 : 1 + size].reshape(1, size)
        start = 1 + size
        self.neurons = self.outputs[start : start + contract.neuron_count].reshape(1, -1)
        self.features = self.outputs[start + contract.neuron_count :].reshape(1, -1)
        self._binding = session.io_binding()
        feeds: dict[str, np.ndarray] = {INPUT_FRAME: self.frame}
        fetches: dict[str, np.ndarray] = {
            OUTPUT_CURVATURE: self.curvature,
            OUTPUT_NEURONS: self.neurons,
        }
        fetches[OUTPUT_FEATURES] = self.features
        if self._stateful:
            feeds.update({INPUT_STATE: self.state, INPUT_ELAPSED: self.elapsed})
            fetches[OUTPUT_STATE] = self.state_out
        for name, array in feeds.items():
            self._binding.bind_input(
                name, "cpu", 0, np.float32, list(array.shape), array.ctypes.data
            )
        for name, array in fetches.items():
            self._binding.bind_output(
                name, "cpu", 0, np.float32, list(array.shape), array.ctypes.data
            )
        self._options = ort.RunOptions()
        self._options.add_run_config_entry("gpu_graph_id", "-1")  # no graph capture: fast path

    def run(self, elapsed_s: float) -> bool:
        self.elapsed[0, 0] = elapsed_s
        self._session.run_with_iobinding(self._binding, self._options)
        finite = bool(np.isfinite(self.outputs).all())
        self.state[:] = self.state_out
        return finite

    def reset(self) -> None:
        self.state.fill(0.0)

    def get_state(self) -> np.ndarray:
        return self.state[0].copy()

    def set_state(self, state: np.ndarray) -> None:
        self.state[0] = state


class _DeviceRunner(_HostRunner):
    """The state stays in device OrtValues (ping-pong); see the module's docstring."""

    def __init__(
        self, session: ort.InferenceSession, contract: ModelContract, device: str, device_id: int
    ) -> None:
        super().__init__(session, contract)
        if not contract.stateful:
            return
        shape = [1, contract.state_size]
        self._states = [
            ort.OrtValue.ortvalue_from_shape_and_type(shape, np.float32, device, device_id)
            for _ in range(2)
        ]
        # _bindings[(parity, from_host)]: state from _states[parity] (or the host buffer
        # self.state), state_out into _states[1 - parity].
        self._bindings: dict[tuple[int, bool], ort.IOBinding] = {}
        for parity in (0, 1):
            for from_host in (False, True):
                binding = session.io_binding()
                for name, array in ((INPUT_FRAME, self.frame), (INPUT_ELAPSED, self.elapsed)):
                    binding.bind_input(
                        name, "cpu", 0, np.float32, list(array.shape), array.ctypes.data
                    )
                if from_host:
                    binding.bind_input(
                        INPUT_STATE, "cpu", 0, np.float32, shape, self.state.ctypes.data
                    )
                else:
                    binding.bind_ortvalue_input(INPUT_STATE, self._states[parity])
                binding.bind_ortvalue_output(OUTPUT_STATE, self._states[1 - parity])
                for name, array in (
                    (OUTPUT_CURVATURE, self.curvature),
                    (OUTPUT_NEURONS, self.neurons),
                    (OUTPUT_FEATURES, self.features),
                ):
                    binding.bind_output(
                        name, "cpu", 0, np.float32, list(array.shape), array.ctypes.data
                    )
                self._bindings[(parity, from_host)] = binding
        self._parity = 0
        self._from_host = True  # the first run starts from the (zero) host state

    def run(self, elapsed_s: float) -> bool:
        if not self._stateful:
            return super().run(elapsed_s)
        self.elapsed[0, 0] = elapsed_s
        binding = self._bindings[(self._parity, self._from_host)]
        self._session.run_with_iobinding(binding, self._options)
        binding.synchronize_outputs()
        self._parity, self._from_host = 1 - self._parity, False
        new_state = self._states[self._parity].numpy()  # a small read-back, for the check only
        return bool(np.isfinite(self.outputs).all() and np.isfinite(new_state).all())

    def reset(self) -> None:
        if not self._stateful:
            return
        self.state.fill(0.0)
        self._from_host = True

    def get_state(self) -> np.ndarray:
        if not self._stateful or self._from_host:
            return self.state[0].copy()
        return np.asarray(self._states[self._parity].numpy()[0], dtype=np.float32)

    def set_state(self, state: np.ndarray) -> None:
        if self._stateful:
            self.state[0] = state
            self._from_host = True


class SteeringModel:
    """A validated steering model session; see :meth:`load`."""

    def __init__(
        self,
        session: ort.InferenceSession,
        contract: ModelContract,
        model_hash: str,
        source: str,
        config: PipelineConfig,
        state_on_device: bool | None = None,
    ) -> None:
        self.session = session
        self.contract = contract
        self.model_hash = model_hash
        self.source = source
        self.provider = running_provider(session)
        on_gpu = self.provider in ("cuda", "tensorrt")
        device = on_gpu if state_on_device is None else state_on_device
        self._runner: _HostRunner
        if device:
            self._runner = _DeviceRunner(
                session,
                contract,
                "cuda" if on_gpu else "cpu",
                config.gpu_device_id if on_gpu else 0,
            )
        else:
            self._runner = _HostRunner(session, contract)
        self.state_on_device = device and contract.stateful
        check_starts_finite(self, config.default_elapsed_s, source)
        self.warm_up(config.warmup_runs, config.default_elapsed_s)

    @classmethod
    def load(
        cls,
        path: str | Path,
        config: PipelineConfig | None = None,
        *,
        state_on_device: bool | None = None,
    ) -> SteeringModel:
        """Open ``path``, check it is an ncp_driver steering model and start it on a provider.

        ``state_on_device`` (default: on a GPU provider) keeps the state in device OrtValues.
        Raises :class:`ModelContractError` for a file that is not ours or breaks the contract,
        :class:`ProviderError` when the providers asked for cannot run it.
        """
        config = config or PipelineConfig()
        path = Path(path)
        if not path.is_file():
            raise MissingModelError(
                f"cannot read the model {path}: it {_not_a_file(path)}; set model_path to an "
                "exported .onnx file"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelContractError(
                f"cannot read the model {path}: {exc.strerror or exc}; set model_path to an "
                "exported .onnx file"
            ) from exc
        return cls._build(str(path), data, config, path.parent, state_on_device, load_from=path)

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        config: PipelineConfig | None = None,
        source: str = "<model bytes>",
        *,
        state_on_device: bool | None = None,
    ) -> SteeringModel:
        """As :meth:`load`, from the bytes of an ONNX file."""
        config = config or PipelineConfig()
        return cls._build(source, data, config, Path.cwd(), state_on_device, load_from=None)

    @classmethod
    def _build(
        cls,
        source: str,
        data: bytes,
        config: PipelineConfig,
        model_dir: Path,
        state_on_device: bool | None,
        load_from: Path | None,
    ) -> SteeringModel:
        session = open_session(
            str(load_from) if load_from is not None else data, config, model_dir, source
        )
        contract = session_contract(session, source)
        check_io(session, contract, source)
        model_hash = hashlib.sha256(data).hexdigest()
        return cls(session, contract, model_hash, source, config, state_on_device)

    @property
    def frame_input(self) -> np.ndarray:
        """The (1, H, W, 3) float32 buffer the next :meth:`step` reads: write the frame here."""
        return self._runner.frame

    @property
    def state(self) -> np.ndarray:
        """A copy of the recurrent state (empty for a stateless model)."""
        return self._runner.get_state()

    def set_state(self, state: np.ndarray) -> None:
        """Replace the state (audits, tests); ``state`` has ``contract.state_size`` values."""
        values = np.asarray(state, np.float32).reshape(-1)
        if values.size != (self.contract.state_size if self.contract.stateful else 0):
            raise ModelContractError(
                f"state of {values.size} values given; {self.source} carries "
                f"{self.contract.state_size if self.contract.stateful else 0}"
            )
        self._runner.set_state(values)

    def reset_state(self) -> None:
        """Zero the recurrent state."""
        self._runner.reset()

    def step(self, elapsed_s: float, frame: np.ndarray | None = None) -> StepOutput:
        """Run one frame (``frame``, else what is in :attr:`frame_input`) after ``elapsed_s`` s.

        The state advances even when the outputs are not finite: reset it then.
        """
        if frame is not None:
            self._runner.frame[...] = frame.reshape(self._runner.frame.shape)
        finite = self._runner.run(elapsed_s)
        curvature = float(self._runner.curvature[0, 0])
        return StepOutput(curvature, self._runner.neurons[0], self._runner.features[0], finite)

    def warm_up(self, runs: int, elapsed_s: float) -> None:
        """Run ``runs`` grey frames so the first real one is not slow; then reset the state."""
        if runs <= 0:
            return
        self._runner.frame.fill(0.5)
        for _ in range(runs):
            self._runner.run(elapsed_s)
        self._runner.frame.fill(0.0)
        self._runner.outputs.fill(0.0)
        self._runner.reset()

    def __repr__(self) -> str:
        return (
            f"SteeringModel({self.source!r}, kind={self.contract.kind}, provider={self.provider}, "
            f"sha256={self.model_hash[:12]})"
        )
