"""Chat templating: the system prompt and problem become the prompt text the model continues."""

from __future__ import annotations

from typing import Any

# The seed's Llama-3 variant: the stock template minus the "Cutting Knowledge Date" header,
# so prompts do not change with the date.
LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


def template_for(custom_chat_template: str) -> str | None:
    """`none` -> the tokenizer's own template; `llama3` -> the seed's variant; else Jinja text."""
    if custom_chat_template == "none":
        return None
    if custom_chat_template == "llama3":
        return LLAMA3_TEMPLATE
    return custom_chat_template


def render(tokenizer: Any, problem: str, system_prompt: str, custom_chat_template: str) -> str:
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": problem})
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True, chat_template=template_for(custom_chat_template)
    )
