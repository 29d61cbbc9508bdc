// The official OpenAI SDK for JavaScript as a client of Turbine's OpenAI endpoints. Usage:
//   node openai-client.mjs BASE_URL MODEL EMBEDDING_MODEL
// Runs each call the SDK's users make and prints one JSON object with what came back, for the test to check.
import OpenAI from "openai";

const [baseURL, model, embeddingModel] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sdk-test-key-0123456789", maxRetries: 0 });
const result = {};

const models = await client.models.list();
result.models = models.data.map((m) => m.id);

const chat = await client.chat.completions.create({
  model,
  messages: [{ role: "user", content: "Say hello." }],
  max_tokens: 8,
  temperature: 0,
});
result.chat = { content: chat.choices[0].message.content, finish: chat.choices[0].finish_reason, usage: chat.usage };

const stream = await client.chat.completions.create({
  model,
  messages: [{ role: "user", content: "Say hello." }],
  max_tokens: 8,
  temperature: 0,
  stream: true,
  stream_options: { include_usage: true },
});
let streamed = "";
let streamUsage = null;
let finish = null;
for await (const chunk of stream) {
  if (chunk.choices.length > 0) {
    streamed += chunk.choices[0].delta.content ?? "";
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  if (chunk.usage) streamUsage = chunk.usage;
}
result.chatStream = { content: streamed, finish, usage: streamUsage };

const completion = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 6, temperature: 0 });
result.completion = { text: completion.choices[0].text, usage: completion.usage };

const completionStream = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 6, temperature: 0, stream: true });
let text = "";
for await (const chunk of completionStream) text += chunk.choices[0]?.text ?? "";
result.completionStream = { text };

// Leaving a stream early: the SDK aborts the request, and the server must free the sequence. Greedy, so that the run
// cannot end early on a sampled end token.
const abandoned = await client.completions.create({ model, prompt: "Count:", max_tokens: 8000, temperature: 0, stream: true });
for await (const chunk of abandoned) {
  result.abandonedFirst = chunk.choices[0]?.text ?? "";
  break;
}

// The SDK asks for base64 by default and decodes it; asking for floats must give the same vectors.
const sentences = ["A man is playing a guitar.", "Someone plays a musical instrument."];
const byDefault = await client.embeddings.create({ model: embeddingModel, input: sentences });
const asFloats = await client.embeddings.create({ model: embeddingModel, input: sentences, encoding_format: "float" });
result.embeddings = {
  default: byDefault.data.map((d) => Array.from(d.embedding)),
  float: asFloats.data.map((d) => d.embedding),
  usage: byDefault.usage,
};

async function errorOf(call) {
  try {
    await call();
    return { name: "none" };
  } catch (e) {
    return { name: e.constructor.name, status: e.status, param: e.param ?? null, code: e.code ?? null, type: e.type ?? null };
  }
}
result.errors = {
  unknownModel: await errorOf(() => client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] })),
  negativeMaxTokens: await errorOf(() => client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }], max_tokens: -1 })),
  emptyMessages: await errorOf(() => client.chat.completions.create({ model, messages: [] })),
};

console.log(JSON.stringify(result));
