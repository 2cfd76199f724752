"""Our TextRank summaries beside PyPI sumy's TextRankSummarizer on the same real texts.

The texts are windows of eight consecutive sentences of /usr/share/common-licenses (English
prose present on every Debian machine). Both summarisers pick three sentences; sumy is given
a regular-expression tokenizer, because its default one needs NLTK data that is downloaded
from NLTK's servers, not PyPI. Prints how many of our sentences sumy also picked, and the
same for a random pick, so the agreement has something to be compared with.
"""
import glob
import json
import random
import re
import subprocess
import sys

from sumy.parsers.plaintext import PlaintextParser
from sumy.summarizers.text_rank import TextRankSummarizer

SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"])")


class RegexTokenizer:
    language = "english"

    def to_sentences(self, paragraph):
        return [s.strip() for s in SENTENCE.split(paragraph) if len(re.findall(r"[^\W_]+", s)) >= 3]

    def to_words(self, sentence):
        return re.findall(r"[^\W_]+", sentence.lower())


def documents():
    for path in sorted(glob.glob("/usr/share/common-licenses/*")):
        try:
            text = open(path, encoding="utf-8").read()
        except (UnicodeDecodeError, IsADirectoryError):
            continue
        # Windows of eight consecutive sentences: short documents like articles.
        sentences = RegexTokenizer().to_sentences(" ".join(text.split()))
        for start in range(0, len(sentences) - 7, 8):
            yield " ".join(sentences[start:start + 8])


def normalise(sentence):
    return " ".join(re.findall(r"[^\W_]+", sentence.lower()))


def main(binary, folder):
    texts = list(documents())
    source, target = f"{folder}/summary-in.jsonl", f"{folder}/summary-out.jsonl"
    with open(source, "w") as out:
        for text in texts:
            out.write(json.dumps({"text": text}) + "\n")
    subprocess.run([binary, "summarize", "--input", source, "--output", target], check=True)
    ours = [json.loads(line)["sentences"] for line in open(target)]
    summarizer = TextRankSummarizer()
    rng = random.Random(3)
    agree = chance = total = 0
    for text, mine in zip(texts, ours):
        document = PlaintextParser.from_string(text, RegexTokenizer()).document
        theirs = {normalise(str(s)) for s in summarizer(document, 3)}
        sentences = [normalise(str(s)) for s in document.sentences]
        drawn = set(rng.sample(sentences, min(3, len(sentences))))
        mine = {normalise(s) for s in mine}
        agree += len(mine & theirs)
        chance += len(drawn & theirs)
        total += len(theirs)
    print(f"summaries: {len(texts)} texts of 8 sentences from /usr/share/common-licenses, 3 sentences each")
    print(f"sumy {__import__('sumy').__version__} TextRank also picked {agree / total:.0%} of ours (a random pick: {chance / total:.0%})")
    return agree / total, chance / total


if __name__ == "__main__":
    # --check (make test): fail unless sumy's TextRank agrees with ours well beyond chance.
    check = "--check" in sys.argv
    arguments = [a for a in sys.argv[1:] if a != "--check"]
    agreement, chance = main(arguments[0], arguments[1] if len(arguments) > 1 else ".dev")
    if check and agreement < chance + 0.15:
        sys.exit(f"summaries: sumy agrees with {agreement:.0%} of ours, a random pick with {chance:.0%}: too close")
