"""What the chain tests share: the product's example question, its English form and the
model's scripted translation of it, the prompt sets, and the sentence an answer quotes first."""

from chatbot.prompts import prompts_for

NVIDIA_JA = "なぜOpenAIはTrainiumではなくNVIDIAを選んだのですか？"
NVIDIA_EN = "Why did OpenAI choose NVIDIA over Trainium?"
NVIDIA_EN_JA = "なぜOpenAIはTrainiumではなくNVIDIAを選んだのか？"  # the model's translation, scripted
JA, EN = prompts_for("ja"), prompts_for("en")


def best_sentence(bot, question, history=None):
    """The evidence sentence the answer quotes first."""
    query = bot.chain.condense(question, history)
    found = bot.chain.find(query)
    return bot.chain.lead(query, found)[0]
