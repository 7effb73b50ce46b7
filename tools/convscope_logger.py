"""Log a PyTorch training run as a Convscope run directory (format convscope-run/1).

Needs torch and numpy only. Call it from your own training loop; the result opens in
Convscope (``convscope-cli inspect|predict|explain|run-info RUN``, the app) like a run
trained by ``convscope-cli train``::

    import torch
    from convscope_logger import RunLogger

    model = MyCNN()
    log = RunLogger("runs/my-cnn", model, example_input=torch.zeros(1, 1, 28, 28),
                    classes=["T-shirt/top", "Trouser", ...],
                    mean=[0.2860], std=[0.3530],           # what your transform normalises with
                    dataset={"name": "fashion-mnist", "train_subset": 6000},
                    train={"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "seed": 1})
    # run.json, model.onnx and checkpoints/epoch-0000.safetensors (the initialisation) exist now
    for epoch in range(1, epochs + 1):
        train_loss, train_acc = train_one_epoch(model, ...)
        val_loss, val_acc = evaluate(model, ...)
        log.log_epoch(epoch, train_loss=train_loss, train_accuracy=train_acc,
                      val_loss=val_loss, val_accuracy=val_acc,
                      learning_rate=optimizer.param_groups[0]["lr"])

What is written (Convscope's docs/formats/run.md):

- ``model.onnx``: the architecture, exported once at creation (opset 13, input "input" of
  shape (batch, C, H, W) with a dynamic batch, output "logits"). Its initializers are named
  exactly as ``model.state_dict()``, so each checkpoint lays over it by name.
- ``checkpoints/epoch-NNNN.safetensors``: ``model.state_dict()`` of that epoch; floating-point
  tensors as F32 (BN running statistics included), integer ones (BN's num_batches_tracked) in
  their own integer dtype, which Convscope ignores.
- ``run.json``: format, name, created, model, input {channels, height, width, mean, std},
  classes, dataset, train, epochs [{epoch, checkpoint, train_loss, train_accuracy, val_loss,
  val_accuracy, learning_rate, seconds}, ...]. Missing metrics are null; accuracies are
  fractions in [0, 1]. Rewritten atomically (temporary file + rename) after every epoch, as
  are the checkpoints, so an interrupted run stays a valid run.

Keeping parameter names in the ONNX file: PyTorch's exporter renames parameters in two ways,
both avoided here. (1) In eval mode it folds BatchNorm into the preceding Conv, which drops
the BN tensors and gives the Conv anonymous "onnx::Conv_N" initializers; we export with
``training=TrainingMode.PRESERVE`` on a model set to eval(), which keeps BatchNormalization
nodes (in inference form) and skips that fold, plus ``do_constant_folding=False``. (2) It
merges initializers with equal *values* in eval mode (a fresh BN's weight and running_var are
both ones, its bias and running_mean both zeros), so running_var would become an Identity of
weight; we make it merge only tensors that share storage (tied weights, which are truly one
parameter). After export the ONNX file is read back (a small protobuf reader below, no onnx
package needed) and checked: every float initializer must be a parameter or buffer of the
model. Tied parameters appear once, under the name PyTorch keeps; the checkpoint holds both
names. A float initializer that is neither (a constant your forward() builds from a tensor
attribute) is written unchanged into every checkpoint, with a warning.

Not supported: models with several inputs or outputs, DataParallel wrappers (pass
``model.module``), inputs that are not images of 1 to 4 channels.
"""

import datetime
import json
import math
import os
import struct
import tempfile
import time
import warnings

import numpy as np
import torch

RUN_FORMAT = "convscope-run/1"
OPSET = 13

__all__ = ["RunLogger", "save_safetensors", "onnx_initializers"]


# --- safetensors -------------------------------------------------------------------------------

_DTYPES = {
    torch.float32: ("F32", "<f4"), torch.float64: ("F32", "<f4"),
    torch.float16: ("F32", "<f4"), torch.bfloat16: ("F32", "<f4"),
    torch.int64: ("I64", "<i8"), torch.int32: ("I32", "<i4"), torch.int16: ("I16", "<i2"),
    torch.int8: ("I8", "i1"), torch.uint8: ("U8", "u1"), torch.bool: ("BOOL", "?"),
}


def _umask():
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def _atomic_write(path, chunks):
    """Writes the byte strings in chunks to path through a temporary file in the same
    directory and a rename, so readers see the old file or the new one, never a part."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        # mkstemp makes the file private; give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            for c in chunks:
                f.write(c)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_safetensors(tensors, path):
    """Writes a {name: tensor or ndarray} mapping as a .safetensors file, atomically.

    Floating-point tensors are stored as F32, integer and bool ones in their own dtype, all
    little-endian. Layout (the safetensors spec): u64 LE header size N, N bytes of JSON
    {name: {"dtype", "shape", "data_offsets": [begin, end]}} padded with spaces so that the
    data starts 8-byte aligned, then the tensors back to back in header order.
    """
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError("safetensors: tensor names must be strings, got %r" % (name,))
        if isinstance(t, np.ndarray):
            t = torch.from_numpy(np.ascontiguousarray(t))
        if t.dtype not in _DTYPES:
            raise TypeError("safetensors: tensor '%s' has dtype %s, which cannot be written"
                            % (name, t.dtype))
        code, np_dtype = _DTYPES[t.dtype]
        t = t.detach().cpu()
        if code == "F32":
            t = t.to(torch.float32)
        data = np.ascontiguousarray(t.numpy()).astype(np_dtype, copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    _atomic_write(path, [struct.pack("<Q", len(text)), text] + blobs)


# --- reading back the exported ONNX file ---------------------------------------------------------

# TensorProto.DataType codes of the float types and how their raw_data is stored.
_ONNX_FLOATS = {1: "<f4", 10: "<f2", 11: "<f8", 16: "bfloat16"}


def _varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated protobuf")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(buf):
    """Yields (field number, wire type, value) of a protobuf message; value is an int for
    varints and fixed-size fields, a memoryview for length-delimited ones."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = struct.unpack_from("<Q", buf, pos)[0], pos + 8
        elif wire == 5:
            value, pos = struct.unpack_from("<I", buf, pos)[0], pos + 4
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        else:
            raise ValueError("unsupported protobuf wire type %d" % wire)
        yield field, wire, value


def onnx_initializers(onnx_bytes):
    """The initializers of an ONNX model as {name: (data_type, dims, raw_data or None)},
    read straight from the protobuf (ModelProto.graph = 7, GraphProto.initializer = 5,
    TensorProto dims = 1, data_type = 2, float_data = 4, name = 8, raw_data = 9)."""
    out = {}
    buf = memoryview(onnx_bytes)
    for field, wire, graph in _fields(buf):
        if field != 7 or wire != 2:
            continue
        for gfield, gwire, tensor in _fields(graph):
            if gfield != 5 or gwire != 2:
                continue
            name, dtype, dims, raw, floats = None, 0, [], None, []
            for tfield, twire, v in _fields(tensor):
                if tfield == 1 and twire == 0:
                    dims.append(v)
                elif tfield == 1 and twire == 2:
                    p = 0
                    while p < len(v):
                        d, p = _varint(v, p)
                        dims.append(d)
                elif tfield == 2:
                    dtype = v
                elif tfield == 4 and twire == 2:
                    floats.extend(np.frombuffer(bytes(v), "<f4").tolist())
                elif tfield == 4 and twire == 5:
                    floats.append(struct.unpack("<f", struct.pack("<I", v))[0])
                elif tfield == 8:
                    name = bytes(v).decode("utf-8")
                elif tfield == 9:
                    raw = bytes(v)
            if raw is None and floats:
                raw = np.asarray(floats, "<f4").tobytes()
            out[name] = (dtype, dims, raw)
    return out


def _initializer_array(name, dtype, dims, raw):
    """An ONNX float initializer's value as a float32 ndarray, or None when it is not stored
    inline (external data)."""
    if raw is None:
        return None
    if _ONNX_FLOATS[dtype] == "bfloat16":
        a = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
    elif dtype == 1 and len(raw) != 4 * int(np.prod(dims, dtype=np.int64)):
        return None                      # float_data of another length: not ours to guess
    else:
        a = np.frombuffer(raw, _ONNX_FLOATS[dtype])
    return a.astype(np.float32).reshape(dims)


# --- the run -----------------------------------------------------------------------------------

def _metric(v):
    """A metric as a JSON number, or None (null) when absent or not finite."""
    if v is None:
        return None
    if isinstance(v, torch.Tensor):
        v = v.detach().cpu().item()
    v = float(v)
    return v if math.isfinite(v) else None


def _per_channel(values, channels, what):
    if values is None:
        return None
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().flatten().tolist()
    if isinstance(values, (int, float)):
        values = [values] * channels
    values = [float(v) for v in values]
    if len(values) != channels:
        raise ValueError("RunLogger: %s has %d values, the input has %d channels"
                         % (what, len(values), channels))
    if what == "std" and not all(v > 0 and math.isfinite(v) for v in values):
        raise ValueError("RunLogger: std must be positive")
    return values


def _named_tensors(model):
    """Every parameter and buffer (persistent or not) by its dotted name, tied ones under each
    of their names."""
    try:
        modules = model.named_modules(remove_duplicate=False)
    except TypeError:
        modules = model.named_modules()
    out = {}
    for prefix, m in modules:
        for n, t in list(m._parameters.items()) + list(m._buffers.items()):
            if t is not None:
                out[prefix + "." + n if prefix else n] = t
    return out


class _NamesKept:
    """During torch.onnx.export, merges initializers only when they share storage.

    PyTorch (1.13 at least) deduplicates initializers by *value* when the model is in eval
    mode, which renames a fresh BatchNorm's running statistics into Identity nodes of its
    weight and bias. The pass takes an is_train flag choosing dedup by data pointer; we force
    it. A no-op where the pass does not exist.
    """

    def __enter__(self):
        self.orig = getattr(torch._C, "_jit_pass_onnx_deduplicate_initializers", None)
        if self.orig is not None:
            orig = self.orig
            torch._C._jit_pass_onnx_deduplicate_initializers = \
                lambda graph, params, is_train: orig(graph, params, True)
        return self

    def __exit__(self, *exc):
        if self.orig is not None:
            torch._C._jit_pass_onnx_deduplicate_initializers = self.orig
        return False


class RunLogger:
    """Writes a Convscope run directory from a PyTorch training loop (see the module docstring).

    out_dir        the run directory (created; an existing run.json there is an error unless
                   overwrite=True, which removes the old run's files first)
    model          the torch.nn.Module being trained (one image input, one logits output)
    example_input  a tensor of shape (C, H, W) or (N, C, H, W), as the model receives it
                   (already normalised); fixes the input size recorded in run.json
    classes        the class labels, one per logit (default: "0", "1", ...)
    mean, std      per-channel normalisation your data pipeline applies to [0, 1] images
                   (a number or C numbers; default none: 0 and 1), so that Convscope
                   preprocesses PNG/JPEG inputs the same way
    name           the run's name (default: the directory's name)
    dataset, train JSON-serialisable dicts recorded as run.json's "dataset" and "train"
                   (data set and hyper-parameters, e.g. the seed)

    On creation: exports model.onnx, writes checkpoints/epoch-0000.safetensors (the
    initialisation, before any step) and run.json. Then call log_epoch once per epoch.
    """

    def __init__(self, out_dir, model, example_input, classes=None, mean=None, std=None,
                 name=None, dataset=None, train=None, overwrite=False):
        if not isinstance(model, torch.nn.Module):
            raise TypeError("RunLogger: model must be a torch.nn.Module")
        x = torch.as_tensor(example_input)
        if x.dim() == 3:
            x = x.unsqueeze(0)
        if x.dim() != 4 or not 1 <= x.shape[1] <= 4:
            raise ValueError("RunLogger: example_input must have shape (C, H, W) or (N, C, H, W) "
                             "with 1 to 4 channels, got %s" % (tuple(x.shape),))
        self.out_dir = os.fspath(out_dir)
        self.model = model
        self.run_json = os.path.join(self.out_dir, "run.json")
        os.makedirs(os.path.join(self.out_dir, "checkpoints"), exist_ok=True)
        if os.path.exists(self.run_json):
            if not overwrite:
                raise FileExistsError("RunLogger: %s already holds a run (pass overwrite=True to "
                                      "replace it)" % self.out_dir)
            self._remove_old_run()
        x = x[:1]
        params = list(model.parameters())
        if params:
            x = x.to(params[0].device)
        self._export(x)
        channels, height, width = (int(d) for d in x.shape[1:])
        mean = _per_channel(mean, channels, "mean") or [0.0] * channels
        std = _per_channel(std, channels, "std") or [1.0] * channels
        if classes is None:
            classes = [str(k) for k in range(self._n_outputs)]
        classes = [str(c) for c in classes]
        if len(classes) != self._n_outputs:
            raise ValueError("RunLogger: %d classes given, the model has %d outputs"
                             % (len(classes), self._n_outputs))
        if name is None:
            name = os.path.basename(os.path.normpath(os.path.abspath(self.out_dir)))
        self.run = {
            "format": RUN_FORMAT,
            "name": str(name),
            "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "model": "model.onnx",
            "input": {"channels": channels, "height": height, "width": width,
                      "mean": mean, "std": std},
            "classes": classes,
            "dataset": dict(dataset) if dataset is not None else {},
            "train": dict(train) if train is not None else {},
            "epochs": [],
        }
        json.dumps(self.run, allow_nan=False)     # fails here, not at the first epoch
        self._last_time = time.monotonic()
        self.log_epoch(0, seconds=None)

    def _remove_old_run(self):
        ck = os.path.join(self.out_dir, "checkpoints")
        for f in os.listdir(ck):
            if f.startswith("epoch-") and f.endswith(".safetensors"):
                os.unlink(os.path.join(ck, f))
        for f in ("run.json", "model.onnx", "analysis.json"):
            p = os.path.join(self.out_dir, f)
            if os.path.exists(p):
                os.unlink(p)

    def _export(self, x):
        """Exports model.onnx and works out which ONNX initializers each checkpoint needs."""
        import io
        modes = {m: m.training for m in self.model.modules()}
        self.model.eval()
        try:
            with torch.no_grad():
                y = self.model(x)
                if not isinstance(y, torch.Tensor) or y.dim() != 2:
                    raise ValueError("RunLogger: the model must return one (N, classes) tensor "
                                     "of logits")
                self._n_outputs = int(y.shape[1])
                buf = io.BytesIO()
                with _NamesKept(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")    # tracer chatter about view(x.size(0), ..)
                    torch.onnx.export(
                        self.model, x, buf, export_params=True, opset_version=OPSET,
                        training=torch.onnx.TrainingMode.PRESERVE,
                        do_constant_folding=False, keep_initializers_as_inputs=False,
                        input_names=["input"], output_names=["logits"],
                        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        finally:
            for m, t in modes.items():
                m.training = t
        data = buf.getvalue()
        self._check_names(onnx_initializers(data))
        _atomic_write(os.path.join(self.out_dir, "model.onnx"), [data])

    def _check_names(self, inits):
        named = _named_tensors(self.model)
        state = self.model.state_dict()
        # Initializers the state_dict lacks but the model names (non-persistent buffers),
        # written from the live model every epoch.
        self._extra = []
        # Float initializers that are nothing of the model: written as exported.
        self._constants = {}
        for init_name, (dtype, dims, raw) in inits.items():
            if dtype not in _ONNX_FLOATS or init_name in state:
                continue
            if init_name in named:
                self._extra.append(init_name)
                continue
            value = _initializer_array(init_name, dtype, dims, raw)
            if value is None:
                raise ValueError("RunLogger: ONNX initializer '%s' is not a parameter of the "
                                 "model and its value is not stored inline" % init_name)
            warnings.warn("RunLogger: ONNX initializer '%s' is not a parameter or buffer of the "
                          "model; it is written unchanged into every checkpoint (if it derives "
                          "from parameters, the checkpoints will not show it training)"
                          % init_name, stacklevel=4)
            self._constants[init_name] = value
        # state_dict floats the graph does not use under their own name: tied (kept under
        # another name) or unused parameters. Harmless; listed for whoever wonders.
        self.unused = [k for k, v in state.items()
                       if v.is_floating_point() and k not in inits]

    def state(self):
        """The tensors of the current epoch's checkpoint."""
        tensors = dict(self.model.state_dict())
        if self._extra:
            named = _named_tensors(self.model)
            for k in self._extra:
                tensors[k] = named[k]
        tensors.update(self._constants)
        return tensors

    def log_epoch(self, epoch, train_loss=None, train_accuracy=None, val_loss=None,
                  val_accuracy=None, learning_rate=None, seconds=None, **extra):
        """Checkpoints model.state_dict() as epoch `epoch` and records its metrics.

        Epochs must increase; logging the last epoch again replaces it (e.g. epoch 0 with
        the metrics of the initialisation). seconds defaults to the wall time since the
        previous log_epoch (null for epoch 0). Extra keyword metrics (numbers) are kept in
        the epoch's entry too. Returns the checkpoint's path.
        """
        epoch = int(epoch)
        epochs = self.run["epochs"]
        last = epochs[-1]["epoch"] if epochs else -1
        if epoch < last or epoch < 0:
            raise ValueError("RunLogger: epoch %d comes after epoch %d" % (epoch, last))
        now = time.monotonic()
        if seconds is None and epoch > 0 and epoch != last:
            seconds = now - self._last_time
        self._last_time = now
        rel = "checkpoints/epoch-%04d.safetensors" % epoch
        path = os.path.join(self.out_dir, rel)
        save_safetensors(self.state(), path)
        entry = {"epoch": epoch, "checkpoint": rel,
                 "train_loss": _metric(train_loss), "train_accuracy": _metric(train_accuracy),
                 "val_loss": _metric(val_loss), "val_accuracy": _metric(val_accuracy),
                 "learning_rate": _metric(learning_rate), "seconds": _metric(seconds)}
        for k, v in extra.items():
            entry[k] = _metric(v)
        if epoch == last:
            epochs[-1] = entry
        else:
            epochs.append(entry)
        text = json.dumps(self.run, indent=2, allow_nan=False) + "\n"
        _atomic_write(self.run_json, [text.encode("utf-8")])
        return path
