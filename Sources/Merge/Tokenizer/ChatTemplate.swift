import Foundation

/// A `chat_template:` setting resolved as mergekit 0.1.5's `_set_chat_template` does: `auto` takes the
/// template most of the inputs carry (`tokenizer.chat_template`, compared after trimming whitespace;
/// ties go to the first in config order, base first); a name mergekit ships (`chatml`, `llama3`, …)
/// becomes its Jinja text; anything else of at least 20 characters containing `{` is a template
/// itself, and shorter text or text without `{` is refused (mergekit's "Invalid chat template").
public enum ChatTemplate {
    /// The output's template for `setting`, given the inputs' templates (nil where an input has none).
    /// Nil: `auto` with no input template, so the output keeps the reference model's own.
    public static func resolve(_ setting: String, inputTemplates: [String?]) throws(Invalid) -> String? {
        if setting == "auto" {
            let templates = inputTemplates.compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            var counts: [String: Int] = [:]
            for template in templates { counts[template, default: 0] += 1 }
            // The first template with the highest count (Counter.most_common keeps insertion order on ties).
            return templates.first { counts[$0] == counts.values.max() }
        }
        if setting.count < 256, !setting.contains("\n"), !setting.contains("{"), let text = named[setting] {
            return text
        }
        if setting.count < 20 || !setting.contains("{") { throw Invalid(setting: setting) }
        return setting
    }

    /// A setting that is neither `auto`, a known name nor a template.
    public struct Invalid: Error, Equatable {
        public var setting: String
        public var message: String {
            "invalid chat template '\(setting)' (expected auto, one of \(ChatTemplate.named.keys.sorted().joined(separator: ", ")), or a Jinja template)"
        }
    }

    /// The templates mergekit 0.1.5 ships (`mergekit/_data/chat_templates/*.jinja`), verbatim.
    public static let named: [String: String] = [
        "alpaca": #"""
{{ (messages|selectattr('role', 'equalto', 'system')|list|last).content|trim if (messages|selectattr('role', 'equalto', 'system')|list) else '' }}

{% for message in messages %}
{% if message['role'] == 'user' %}
### Instruction:
{{ message['content']|trim -}}
{% if not loop.last %}


{% endif %}
{% elif message['role'] == 'assistant' %}
### Response:
{{ message['content']|trim -}}
{% if not loop.last %}


{% endif %}
{% elif message['role'] == 'user_context' %}
### Input:
{{ message['content']|trim -}}
{% if not loop.last %}


{% endif %}
{% endif %}
{% endfor %}
{% if add_generation_prompt and messages[-1]['role'] != 'assistant' %}
### Response:
{% endif %}

"""#,
        "chatml": #"""
{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}
{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}

"""#,
        "exaone": #"""
{% for message in messages %}
    {% if loop.first and message['role'] != 'system' %}
        {{ '[|system|][|endofturn|]\n' }}
    {% endif %}
    {{ '[|' + message['role'] + '|]' + message['content'] }}
    {% if message['role'] == 'user' %}
        {{ '\n' }}
    {% else %}
        {{ '[|endofturn|]\n' }}
    {% endif %}
{% endfor %}
{% if add_generation_prompt %}
    {{ '[|assistant|]' }}
{% endif %}

"""#,
        "llama3": #"""
{% set loop_messages = messages %}
{% for message in loop_messages %}
{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}
{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}
{{ content }}
{% endfor %}
{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}

"""#,
        "mistral": #"""
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}

"""#,
    ]
}
