"""Chat templating: the system prompt and problem become the prompt text the model continues."""

from __future__ import annotations

from typing import Any

# The seed's Llama-3 template (search-and-learn `Config.custom_chat_template`), written out
# for the messages sal sends (a system and a user message, no tools): a system block that
# always opens with the "Cutting Knowledge Date" / "Today Date" header, then the system
# message trimmed; every other message verbatim (untrimmed). Without a `date_string` it
# writes the seed's fallback date. It starts with `bos_token`
# because sal encodes prompts without adding special tokens, where vLLM added the BOS to the
# seed's text prompt, so the model reads the same tokens.
LLAMA3_TEMPLATE = (
    "{{- bos_token }}"
    "{%- if date_string is not defined %}{%- set date_string = '26 Jul 2024' %}{%- endif %}"
    "{%- if messages[0]['role'] == 'system' %}"
    "{%- set system_message = messages[0]['content'] | trim %}{%- set messages = messages[1:] %}"
    "{%- else %}{%- set system_message = '' %}{%- endif %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}"
    "{{- 'Cutting Knowledge Date: December 2023\\nToday Date: ' + date_string + '\\n\\n' }}"
    "{{- system_message + '<|eot_id|>' }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)


def template_for(custom_chat_template: str) -> str | None:
    """`none` -> the tokenizer's own template; `llama3` -> the seed's; else Jinja text."""
    if custom_chat_template == "none":
        return None
    if custom_chat_template == "llama3":
        return LLAMA3_TEMPLATE
    return custom_chat_template


def render(tokenizer: Any, problem: str, system_prompt: str, custom_chat_template: str, chat_date: str) -> str:
    """The prompt text; `chat_date` fills `date_string` (the Llama-3 "Today Date")."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": problem})
    return tokenizer.apply_chat_template(
        messages,
        tokenize=False,
        add_generation_prompt=True,
        chat_template=template_for(custom_chat_template),
        date_string=chat_date,
    )
