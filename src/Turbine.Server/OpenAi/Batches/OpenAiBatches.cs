using System.Text;
using System.Text.Json;
using Turbine.Core.Lifecycle;
using Turbine.Jobs;
using Turbine.Llm.Serving;
using Turbine.Server.Jobs;

namespace Turbine.Server.OpenAi.Batches;

/// <summary>
/// The OpenAI Batch API on the batch-job engine: a batch's valid lines become a KServe-lines job of the generative
/// model (its partitions, leases, exactly-once parts and resumption after a restart are the engine's), the invalid ones
/// go straight to the error file, and when the job ends its answers are turned into the output and error files, once.
/// Everything a batch is lives under the jobs folder (<c>openai/batches/{id}/</c>), so a restarted server carries on.
/// </summary>
internal sealed class OpenAiBatches(string jobsFolder, JobsProvider jobs, ModelManager models, OpenAiFiles files, EmbeddingEndpoint embeddings, TimeProvider time) : IDisposable
{
    public static readonly string[] Endpoints = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"];

    private readonly SemaphoreSlim _finalizing = new(1, 1);

    public void Dispose() => _finalizing.Dispose();

    public async Task<(BatchRecord? Batch, OpenAiError? Error)> CreateAsync(string inputFileId, string endpoint, string window, JsonElement? metadata, CancellationToken cancellationToken)
    {
        if (files.Find(inputFileId) is not { } input)
        {
            return (null, new OpenAiError(404, $"No file with id '{ClientText.Quote(inputFileId)}'", "invalid_request_error", "input_file_id"));
        }

        var lines = (await File.ReadAllLinesAsync(files.ContentPath(input.Id), cancellationToken)).Where(l => l.Trim().Length > 0).ToList();
        if (lines.Count == 0 || lines.Count > 50_000)
        {
            return (null, OpenAiError.Invalid("the input file must hold 1 to 50,000 request lines", "input_file_id"));
        }

        var modelName = ModelOf(lines[0]);
        var convert = modelName is null ? null : Converter(endpoint, modelName);
        if (convert is null)
        {
            return (null, OpenAiError.Invalid($"the first line's model '{ClientText.Quote(modelName ?? "(none)")}' is not a model served here for {endpoint}", "input_file_id"));
        }

        var id = "batch_" + Guid.NewGuid().ToString("N")[..24];
        var folder = Folder(id);
        Directory.CreateDirectory(folder);
        var requests = new StringBuilder();
        var rejected = new StringBuilder();
        var valid = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var options = new Dictionary<string, EmbeddingOptions>(StringComparer.Ordinal);
        foreach (var text in lines)
        {
            string? kserve = null;
            string? customId = null;
            string? problem;
            try
            {
                using var line = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
                (kserve, customId, problem, var embedding) = convert(line.RootElement);
                problem ??= customId is not null && !seen.Add(customId) ? $"custom_id '{ClientText.Quote(customId)}' appears twice" : null;
                if (problem is null && embedding is not null)
                {
                    options[customId!] = embedding;
                }
            }
            catch (JsonException)
            {
                problem = "the line is not valid JSON";
            }

            if (problem is null && kserve is not null)
            {
                requests.Append(kserve).Append('\n');
                valid++;
            }
            else
            {
                rejected.Append(BatchLines.Error(customId, "invalid_request", problem ?? "the line cannot run")).Append('\n');
            }
        }

        await File.WriteAllTextAsync(Path.Combine(folder, "requests.jsonl"), requests.ToString(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, "rejected.jsonl"), rejected.ToString(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, "embeddings.json"), JsonSerializer.Serialize(options), cancellationToken);
        var batch = new BatchRecord
        {
            Id = id, Endpoint = endpoint, InputFileId = input.Id, CompletionWindow = window, CreatedAt = time.GetUtcNow().ToUnixTimeSeconds(),
            Metadata = metadata, Total = lines.Count, Rejected = lines.Count - valid, HasJob = valid > 0,
        };
        if (valid > 0)
        {
            var definition = Turbine.Jobs.Definition.JobDefinitionJson.Read($$"""
                {"model": {{JsonSerializer.Serialize(modelName)}}, "input": {"uri": "openai/batches/{{id}}/requests.jsonl", "format": "kserve"},
                 "output": {"uri": "openai/batches/{{id}}/out", "format": "kserve"}, "keys": ["id"]}
                """, out var errors) ?? throw new InvalidOperationException(string.Join("; ", errors));
            var control = await jobs.GetAsync(cancellationToken);
            var (outcome, message, _) = await control.SubmitAsync(definition, id, cancellationToken);
            if (outcome != JobChange.Done)
            {
                return (null, new OpenAiError(500, $"the batch's job could not be created: {message}", "server_error"));
            }
        }

        await SaveAsync(batch, cancellationToken);
        return (await RefreshAsync(batch, cancellationToken), null);
    }

    /// <summary>How the endpoint's lines become the job's request lines, for the model the batch names; null when the model does not serve the endpoint.</summary>
    private Func<JsonElement, (string? KServe, string? CustomId, string? Problem, EmbeddingOptions? Embedding)>? Converter(string endpoint, string modelName)
    {
        if (endpoint == "/v1/embeddings")
        {
            if (embeddings.Encoder(modelName, out var config) is not { } encoder)
            {
                return null;
            }

            return line => (BatchLines.ToKServeEmbedding(line, encoder, config!, modelName, out var customId, out var options, out var problem), customId, problem, options);
        }

        if (models.Resolve(modelName, null, out var runner) is not null || runner is not GenerationRunner generative)
        {
            return null;
        }

        return line => (BatchLines.ToKServe(line, endpoint, generative.Model, modelName, out var customId, out var problem), customId, problem, null);
    }

    public async Task<BatchRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        Load(id) is { } batch ? await RefreshAsync(batch, cancellationToken) : null;

    public async Task<List<BatchRecord>> ListAsync(CancellationToken cancellationToken)
    {
        var root = Path.Combine(jobsFolder, "openai", "batches");
        var batches = new List<BatchRecord>();
        foreach (var folder in Directory.Exists(root) ? Directory.EnumerateDirectories(root) : [])
        {
            if (Load(Path.GetFileName(folder)) is { } batch)
            {
                batches.Add(await RefreshAsync(batch, cancellationToken));
            }
        }

        return [.. batches.OrderByDescending(b => b.CreatedAt)];
    }

    public async Task<BatchRecord?> CancelAsync(string id, CancellationToken cancellationToken)
    {
        if (Load(id) is not { } batch)
        {
            return null;
        }

        if (batch.HasJob)
        {
            await (await jobs.GetAsync(cancellationToken)).CancelAsync(id, cancellationToken);
        }

        return await RefreshAsync(batch, cancellationToken);
    }

    /// <summary>The batch's status as the API names it, and its job (null when every line was refused).</summary>
    public async Task<(string Status, Turbine.Jobs.Store.JobRecord? Job)> StatusAsync(BatchRecord batch, CancellationToken cancellationToken)
    {
        var job = batch.HasJob ? await (await jobs.GetAsync(cancellationToken)).Store.GetAsync(batch.Id, cancellationToken) : null;
        var state = job?.State;
        var status = batch.CompletedAt is not null ? (state == JobState.Cancelled ? "cancelled" : state == JobState.Failed ? "failed" : "completed")
            : state switch
            {
                JobState.Queued or JobState.Validating => "validating",
                JobState.Running or JobState.Paused => "in_progress",
                JobState.Succeeded or null => "finalizing",
                JobState.Failed => "failed",
                _ => "cancelled",
            };
        return (status, job);
    }

    /// <summary>The batch, finalized first when its job has ended (its output and error files made, once).</summary>
    private async Task<BatchRecord> RefreshAsync(BatchRecord batch, CancellationToken cancellationToken)
    {
        var (_, job) = await StatusAsync(batch, cancellationToken);
        var ended = job?.State is null or JobState.Succeeded or JobState.Failed or JobState.Cancelled;
        return batch.CompletedAt is null && ended ? await FinalizeAsync(batch, cancellationToken) : batch;
    }

    /// <summary>Turns the job's answers and dead letters, with the refused lines, into the output and error files.</summary>
    private async Task<BatchRecord> FinalizeAsync(BatchRecord batch, CancellationToken cancellationToken)
    {
        await _finalizing.WaitAsync(cancellationToken);
        try
        {
            if (Load(batch.Id) is { CompletedAt: not null } done)
            {
                return done; // another request finished it meanwhile
            }

            var folder = Folder(batch.Id);
            var output = new StringBuilder();
            var errors = new StringBuilder(await File.ReadAllTextAsync(Path.Combine(folder, "rejected.jsonl"), cancellationToken));
            var model = string.Empty;
            var completed = 0;
            var failed = batch.Rejected;
            var results = Path.Combine(folder, "out");
            var embeddingOptions = batch.Endpoint == "/v1/embeddings"
                ? JsonSerializer.Deserialize<Dictionary<string, EmbeddingOptions>>(await File.ReadAllTextAsync(Path.Combine(folder, "embeddings.json"), cancellationToken))!
                : null;
            foreach (var part in Directory.Exists(results) ? [.. Directory.EnumerateFiles(results, "part-*.jsonl").Order(StringComparer.Ordinal)] : (List<string>)[])
            {
                foreach (var line in await File.ReadAllLinesAsync(part, cancellationToken))
                {
                    using var answer = JsonDocument.Parse(line);
                    model = answer.RootElement.GetProperty("model_name").GetString()!;
                    output.Append(embeddingOptions is null
                        ? BatchLines.Output(answer.RootElement, batch.Endpoint, model, time.GetUtcNow().ToUnixTimeSeconds())
                        : BatchLines.EmbeddingOutput(answer.RootElement, model, embeddingOptions[answer.RootElement.GetProperty("id").GetString()!])).Append('\n');
                    completed++;
                }
            }

            var deadLetters = Path.Combine(results, "errors");
            foreach (var part in Directory.Exists(deadLetters) ? [.. Directory.EnumerateFiles(deadLetters, "part-*.jsonl").Order(StringComparer.Ordinal)] : (List<string>)[])
            {
                foreach (var line in await File.ReadAllLinesAsync(part, cancellationToken))
                {
                    using var letter = JsonDocument.Parse(line);
                    var customId = letter.RootElement.TryGetProperty("keys", out var keys) && keys.TryGetProperty("id", out var key) ? key.GetString() : null;
                    errors.Append(BatchLines.Error(customId, "server_error", letter.RootElement.GetProperty("error").GetString() ?? "the request failed")).Append('\n');
                    failed++;
                }
            }

            var outputFile = completed > 0 ? await files.SaveTextAsync($"file-{batch.Id}-output", output.ToString(), $"{batch.Id}_output.jsonl", "batch_output", cancellationToken) : null;
            var errorFile = errors.Length > 0 ? await files.SaveTextAsync($"file-{batch.Id}-errors", errors.ToString(), $"{batch.Id}_errors.jsonl", "batch_output", cancellationToken) : null;
            var finished = batch with { OutputFileId = outputFile?.Id, ErrorFileId = errorFile?.Id, CompletedAt = time.GetUtcNow().ToUnixTimeSeconds(), Completed = completed, Failed = failed };
            await SaveAsync(finished, cancellationToken);
            return finished;
        }
        finally
        {
            _finalizing.Release();
        }
    }

    private static string? ModelOf(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 64 });
            return document.RootElement.TryGetProperty("body", out var body) && body.ValueKind == JsonValueKind.Object
                && body.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private BatchRecord? Load(string id)
    {
        var path = Path.Combine(Folder(id), "batch.json");
        return IsId(id) && File.Exists(path) ? JsonSerializer.Deserialize<BatchRecord>(File.ReadAllText(path)) : null;
    }

    private async Task SaveAsync(BatchRecord batch, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Folder(batch.Id), "batch.json");
        await File.WriteAllTextAsync(path + ".tmp", JsonSerializer.Serialize(batch), cancellationToken);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private string Folder(string id) => Path.Combine(jobsFolder, "openai", "batches", id);

    /// <summary>Whether a client's id can be a batch's: ours are <c>batch_</c> and letters or digits, nothing that walks a path.</summary>
    private static bool IsId(string id) => id.StartsWith("batch_", StringComparison.Ordinal) && id.Length <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
