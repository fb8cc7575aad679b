"""Prompt files: each template's placeholders are exactly the ones the code fills."""

import pytest

from qa.config import shipped
from qa.prompts import FIELDS, load_prompt, placeholders
from qa.types import REFUSAL

PROMPTS_DIR = shipped("prompts")


def test_every_prompt_file_is_known():
    assert {p.stem for p in PROMPTS_DIR.glob("*.txt")} == set(FIELDS)


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_placeholders_match_what_the_code_fills(name):
    assert placeholders(load_prompt(name)) == FIELDS[name]


def test_placeholders_worked_example():
    assert placeholders("Passages:\n{passages}\nQuestion: {question}") == {"passages", "question"}
    assert placeholders("no fields, {{literal}} braces") == set()


def test_generator_fills_the_answer_prompt_with_the_exact_refusal():
    from qa.generators.openai import OpenAIGenerator

    gen = OpenAIGenerator(base_url="http://127.0.0.1:9/v1")
    messages = gen.prompt.format_messages(question="Who won?", passages='<passage n="1" ...>')
    assert REFUSAL in messages[0].content and "{" not in messages[0].content
    assert "Who won?" in messages[1].content


def test_missing_prompt_is_a_clean_error():
    from qa.errors import QAError

    with pytest.raises(QAError, match="prompt file"):
        load_prompt("no-such-prompt")
