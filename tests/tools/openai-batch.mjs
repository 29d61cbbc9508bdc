// The official OpenAI SDK for JavaScript through the Files and Batch APIs. Usage: node openai-batch.mjs BASE_URL MODEL
// Uploads a batch of chat requests, creates the batch, waits for it, and prints the batch and its output lines as JSON.
import OpenAI, { toFile } from "openai";

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "unused-without-keys", maxRetries: 0 });
const lines = ["one", "two"].map((word) =>
  JSON.stringify({ custom_id: word, method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: word }], max_tokens: 3, temperature: 0 } }),
);
const file = await client.files.create({ file: await toFile(Buffer.from(lines.join("\n")), "batch.jsonl"), purpose: "batch" });
let batch = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
const deadline = Date.now() + 60_000;
while (!["completed", "failed", "cancelled", "expired"].includes(batch.status) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 50));
  batch = await client.batches.retrieve(batch.id);
}
const output = batch.output_file_id ? (await (await client.files.content(batch.output_file_id)).text()).trim().split("\n").map((l) => JSON.parse(l)) : [];
const listed = [];
for await (const item of client.batches.list()) listed.push(item.id);
console.log(JSON.stringify({ file, batch, output, listed }));
