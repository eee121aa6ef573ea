"""LangChain interop: ``Chatbot.as_retriever(k)`` and ``Chatbot.as_runnable()`` inside a user's
own LCEL chains, over the real corpus, e5 embeddings and Chroma store (chat models scripted)."""

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from conftest import FABRICATED, DecidingModel, ScriptedChatModel

NVIDIA_JA = "なぜOpenAIはTrainiumではなくNVIDIAを選んだのですか？"
DEAL_JA = "OpenAIとAWSの契約の規模はどのくらいですか？"


def test_as_retriever_gives_documents_with_their_article_metadata(scripted_bot):
    bot = scripted_bot()
    retriever = bot.as_retriever(k=2)
    assert isinstance(retriever, BaseRetriever) and bot.retriever.k is None  # the bot's own is unchanged
    docs = retriever.invoke(NVIDIA_JA)
    results = bot.search(NVIDIA_JA, k=2)
    assert [d.page_content for d in docs] == [r.text for r in results]
    for doc, r in zip(docs, results):
        assert {"doc_id", "title", "publisher", "published", "source", "page", "chunk_id"} <= set(doc.metadata)
        assert (doc.metadata["doc_id"], doc.metadata["title"], doc.metadata["source"]) == (r.doc_id, r.title, r.source)
        assert doc.id == r.chunk_id
    assert len(bot.as_retriever(k=4).invoke(NVIDIA_JA)) == 4


def test_retriever_in_a_users_rag_chain(scripted_bot):
    """The classic LCEL RAG chain: the user's prompt and model, our retriever."""
    bot = scripted_bot()
    model = ScriptedChatModel(replies=["OpenAI chose NVIDIA GPUs."], prompts=[])
    prompt = ChatPromptTemplate.from_messages([("system", "Answer from the context.\n{context}"),
                                               ("human", "{question}")])
    chain = ({"context": bot.as_retriever(k=2) | (lambda docs: "\n\n".join(d.page_content for d in docs)),
              "question": RunnablePassthrough()} | prompt | model | StrOutputParser())
    assert chain.invoke(NVIDIA_JA) == "OpenAI chose NVIDIA GPUs."
    system = model.prompts[0][0].content
    assert all(r.text in system for r in bot.search(NVIDIA_JA, k=2))


def test_answer_runnable_in_a_users_chain_invoke_batch_stream(scripted_bot):
    bot = scripted_bot()
    bot.chat_model = DecidingModel(replies=[], prompts=[])
    expected = {q: bot.ask(q) for q in (NVIDIA_JA, DEAL_JA)}
    # The user's own steps around ours: a question built from a topic, a formatted reply after.
    chain = (RunnableLambda(lambda x: x["question"]) | bot.as_runnable()
             | RunnableLambda(lambda out: {"text": out["answer"], "cited": [c.quote for c in out["citations"]],
                                           "draft": out["draft"]}))
    got = chain.invoke({"question": NVIDIA_JA})
    assert got["text"] == expected[NVIDIA_JA].text and "3,500" not in got["text"] and "3,500" in got["draft"]
    assert got["cited"] == [c.quote for c in expected[NVIDIA_JA].citations]

    batch = chain.batch([{"question": NVIDIA_JA}, {"question": DEAL_JA}], config={"max_concurrency": 2})
    assert [b["text"] for b in batch] == [expected[NVIDIA_JA].text, expected[DEAL_JA].text]

    runnable = bot.as_runnable()
    chunks = list(runnable.stream({"input": DEAL_JA}))
    assert chunks[0]["input"] == DEAL_JA and len([c for c in chunks if c.get("draft")]) > 1  # deltas as they come
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    whole = runnable.invoke(DEAL_JA)
    assert total["answer"] == whole["answer"] == expected[DEAL_JA].text and total["draft"] == whole["draft"]
    assert [d.page_content for d in whole["context"]] == [s.text for s in expected[DEAL_JA].sources]
    assert not whole["refused"] and whole["refusal_reason"] is None


def test_answer_runnable_takes_langchain_chat_history(scripted_bot, monkeypatch):
    bot = scripted_bot("はい", FABRICATED)
    asked = []
    stream = bot.stream
    monkeypatch.setattr(bot, "stream", lambda q, history=None, top_k=None: asked.append((q, history, top_k))
                        or stream(q, history, top_k))
    out = bot.as_runnable().invoke({"input": HumanMessage("それはいつ発表されましたか？"), "top_k": 3,
                                    "chat_history": [HumanMessage(DEAL_JA), AIMessage("380億ドルです。")]})
    history = [{"role": "user", "content": DEAL_JA}, {"role": "assistant", "content": "380億ドルです。"}]
    assert asked == [("それはいつ発表されましたか？", history, 3)] and out["chat_history"] == history
    assert len(out["context"]) == 3
