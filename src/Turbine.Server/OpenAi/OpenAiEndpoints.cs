using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Turbine.Core.Lifecycle;
using Turbine.Llm.Engine;
using Turbine.Llm.Serving;
using Turbine.Llm.Tools;
using Turbine.Server.Http;

namespace Turbine.Server.OpenAi;

/// <summary>
/// The OpenAI API on the HTTP port, for the generative models of the repository: <c>GET /v1/models</c>,
/// <c>POST /v1/completions</c> and <c>POST /v1/chat/completions</c>, whole or streamed as server-sent events, and
/// <c>POST /v1/embeddings</c> over the sentence encoders (<see cref="EmbeddingEndpoint"/>). API keys
/// are the model endpoints' own (a bearer token, limited to some models or not), checked before any work is done.
/// </summary>
internal static class OpenAiEndpoints
{
    public static void MapOpenAi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", ListModelsAsync);
        app.MapGet("/v1/models/{model}", GetModelAsync);
        app.MapPost("/v1/completions", (HttpContext context) => GenerateAsync(context, chat: false));
        app.MapPost("/v1/chat/completions", (HttpContext context) => GenerateAsync(context, chat: true));
        app.MapPost("/v1/embeddings", (HttpContext context, EmbeddingEndpoint embeddings) => embeddings.HandleAsync(context));
    }

    private static async Task ListModelsAsync(HttpContext context, ModelManager models, InferenceAccess access)
    {
        var authorization = OpenAiRequest.Authorization(context);
        if (OpenAiRequest.KeyError(access, authorization) is { } refused)
        {
            await refused.WriteAsync(context);
            return;
        }

        var served = new List<GenerationRunner>();
        foreach (var name in models.KnownModels.Order(StringComparer.Ordinal))
        {
            if (Generative(models, name) is { } runner && access.Check(authorization, name) is null)
            {
                served.Add(runner);
            }
        }

        await WriteJsonAsync(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("object"u8, "list");
            writer.WriteStartArray("data"u8);
            foreach (var runner in served)
            {
                OpenAiJson.WriteModel(writer, runner.Config.Name, runner.LoadedAt.ToUnixTimeSeconds());
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    private static async Task GetModelAsync(HttpContext context, string model, ModelManager models, InferenceAccess access)
    {
        var authorization = OpenAiRequest.Authorization(context);
        var error = OpenAiRequest.KeyError(access, authorization) ?? (access.Check(authorization, model) is { } denied ? OpenAiError.From(denied) : null);
        if (error is null && Generative(models, model) is { } runner)
        {
            await WriteJsonAsync(context, writer => OpenAiJson.WriteModel(writer, model, runner.LoadedAt.ToUnixTimeSeconds()));
            return;
        }

        await (error ?? OpenAiError.ModelNotFound(model)).WriteAsync(context);
    }

    private static async Task GenerateAsync(HttpContext context, bool chat)
    {
        if (await OpenAiRequest.ReadAsync(context, (ReadOnlySpan<byte> json, out OpenAiError? error) => GenerationBodyReader.Read(json, chat, out error), body => body.Model) is not { } request)
        {
            return;
        }

        var services = context.RequestServices;
        if (Generative(services.GetRequiredService<ModelManager>(), request.Model) is not { } runner || !runner.TryEnter())
        {
            await OpenAiError.ModelNotFound(request.Model).WriteAsync(context);
            return;
        }

        var time = services.GetRequiredService<TimeProvider>();
        var started = time.GetTimestamp();
        using var span = GenAiTracing.Start(context, chat ? "chat" : "text_completion", request);
        ChoiceTally? tally = null;
        try
        {
            var plans = Plan(runner.Model, request, chat, out var promptTokens, out var error);
            if (plans is null)
            {
                await error!.WriteAsync(context);
                return;
            }

            var answer = new Answer(chat, (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N"), time.GetUtcNow().ToUnixTimeSeconds(), request.Model);
            tally = new ChoiceTally(plans.Count, promptTokens);
            await using (var streams = new ChoiceStreams(runner.Model, plans, context.RequestAborted))
            {
                var echo = EchoOf(runner.Model, request, plans);
                var tokenText = request.Sampling.Logprobs ? new TokenView(id => runner.Model.Decode([id]), runner.Model.TokenBytes) : null;
                var tools = request.Tools is null ? null : runner.Model.ToolCalls;
                await (request.Stream ? StreamAsync(context, answer, request, streams, tally, echo, tokenText, tools) : WholeAsync(context, answer, streams, tally, echo, tokenText, tools));
            }

            GenAiTracing.Finish(span, answer.Id, tally);
        }
        finally
        {
            runner.Record(started, tally?.Succeeded ?? false, tally?.CompletionTokens ?? 0);
            runner.Leave();
        }
    }

    /// <summary>Each choice's prompt and options; null with the error when a prompt cannot be made or does not fit.</summary>
    private static List<ChoicePlan>? Plan(GenerativeModel model, GenerationBody request, bool chat, out int promptTokens, out OpenAiError? error)
    {
        promptTokens = 0;
        error = null;
        var prompts = new List<IReadOnlyList<int>>();
        var stops = request.Stop;
        if (chat)
        {
            if (request.Tools is not null && model.ToolCalls is null)
            {
                error = OpenAiError.Invalid("this model has no tool-call format Turbine reads (llm.tool_call_parser: hermes, llama3_json or mistral)", "tools");
                return null;
            }

            if (request.ForcedCall is not null && request.Structured is not null)
            {
                error = OpenAiError.Invalid("'response_format' and a forced 'tool_choice' each decide the answer's form; give one", "tool_choice");
                return null;
            }

            if (model.Chat.Render(request.Messages!, request.Tools, out var problem) is not { } text)
            {
                error = OpenAiError.Invalid(problem!, "messages");
                return null;
            }

            prompts.Add(model.Encode(text));
            stops = [.. stops, .. model.Chat.TurnEnds];
        }
        else
        {
            foreach (var prompt in request.Prompts)
            {
                var tokens = prompt.Tokens ?? model.Encode(prompt.Text!);
                if (tokens.Any(t => t >= model.Vocabulary))
                {
                    error = OpenAiError.Invalid($"a prompt token id is not below the vocabulary size ({model.Vocabulary})", "prompt");
                    return null;
                }

                prompts.Add(tokens);
            }
        }

        var plans = new List<ChoicePlan>();
        foreach (var prompt in prompts)
        {
            promptTokens += prompt.Count;
            var maxTokens = request.MaxTokens ?? (chat ? model.MaxContext - prompt.Count : KServeGeneration.DefaultMaxTokens);
            if (prompt.Count == 0 || maxTokens < 1 || prompt.Count + maxTokens > model.MaxContext)
            {
                error = OpenAiError.Invalid(
                    $"This model's maximum context length is {model.MaxContext} tokens. However, you requested {prompt.Count + Math.Max(maxTokens, 0)} tokens ({prompt.Count} in the {(chat ? "messages" : "prompt")}, {Math.Max(maxTokens, 0)} in the completion). Please reduce the length of the {(chat ? "messages" : "prompt")} or completion.",
                    chat ? "messages" : "prompt",
                    "context_length_exceeded");
                return null;
            }

            for (var choice = 0; choice < request.N; choice++)
            {
                // Seeded choices draw differently from each other, and each the same on every run.
                var sampling = request.Sampling.Seed is { } seed ? request.Sampling with { Seed = seed + choice } : request.Sampling;
                plans.Add(new ChoicePlan(prompt, new TextOptions(maxTokens, stops, sampling) { Constraint = ConstraintOf(model, request), StopTokens = request.StopTokens }));
            }
        }

        return plans;
    }

    /// <summary>Each choice's own JSON constraint (they keep per-sequence state), when the output is structured.</summary>
    private static Func<Llm.Constraints.ITokenConstraint>? ConstraintOf(GenerativeModel model, GenerationBody request)
    {
        if (request.ForcedCall is { } call && model.ToolCalls is { } format)
        {
            var (prefix, argumentsKey, suffix) = format.CallForm;
            return () => Llm.Constraints.JsonConstraint.ForCall(prefix, call.Names, argumentsKey, call.Parameters, suffix, model.JsonVocabulary);
        }

        return request.Structured switch
        {
            null => null,
            { Schema: { } schema } => () => Llm.Constraints.JsonConstraint.ForSchema(schema, model.JsonVocabulary),
            _ => () => Llm.Constraints.JsonConstraint.ForObject(model.JsonVocabulary),
        };
    }

    /// <summary>The prompt text an echoing completion starts with (empty otherwise), for each prompt.</summary>
    private static string[] EchoOf(GenerativeModel model, GenerationBody request, List<ChoicePlan> plans) =>
        request.Echo ? [.. plans.Select(p => model.Decode(p.Prompt))] : [.. plans.Select(_ => string.Empty)];

    /// <summary>Collects every choice, then answers with the whole completion object.</summary>
    private static async Task WholeAsync(HttpContext context, Answer answer, ChoiceStreams streams, ChoiceTally tally, string[] echo, TokenView? tokenText, ToolCallParser? tools)
    {
        var texts = echo.Select(e => new StringBuilder(e)).ToArray();
        await foreach (var step in streams.ReadAllAsync())
        {
            if (step.Error is { } failed)
            {
                await streams.CancelAsync();
                await OpenAiError.From(failed).WriteAsync(context);
                return;
            }

            tally.Add(step.Index, step.Delta!);
            texts[step.Index].Append(step.Delta!.Text);
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var choices = new List<FinishedChoice>();
        for (var i = 0; i < texts.Length; i++)
        {
            var logprobs = tokenText is null ? null : new LogprobsPart(answer.Chat, tally.Drawn[i], tokenText, echo[i].Length);
            var (content, calls) = tools is null ? (texts[i].ToString(), []) : tools.Parse(texts[i].ToString());
            if (calls.Count > 0)
            {
                tally.Finishes[i] = "tool_calls";
            }

            choices.Add(new FinishedChoice(content, tally.Finishes[i], logprobs) { ToolCalls = calls });
        }

        await WriteJsonAsync(context, writer => OpenAiJson.WriteWhole(writer, answer.Chat, answer.Id, answer.Created, answer.Model, choices, tally.Usage));
        tally.Succeeded = true;
    }

    /// <summary>
    /// Streams the choices as server-sent events: a chunk per piece of text, the finish reason in each choice's last,
    /// a usage chunk with no choices when asked for, then <c>data: [DONE]</c>. Headers wait for the first event, so a
    /// request the engine refuses at once still gets its HTTP error; a failure after that is sent as an error event.
    /// </summary>
    private static async Task StreamAsync(HttpContext context, Answer answer, GenerationBody request, ChoiceStreams streams, ChoiceTally tally, string[] echo, TokenView? tokenText, ToolCallParser? tools)
    {
        var events = new ServerSentEvents(context.Response);
        var held = tools is null ? null : echo.Select(_ => new ToolCallHold(tools)).ToArray();
        try
        {
            await foreach (var step in streams.ReadAllAsync())
            {
                if (step.Error is { } failed)
                {
                    await streams.CancelAsync();
                    if (!events.Started)
                    {
                        await OpenAiError.From(failed).WriteAsync(context);
                        return;
                    }

                    await events.WriteAsync(writer =>
                    {
                        writer.WriteStartObject();
                        OpenAiError.From(failed).WriteMember(writer);
                        writer.WriteEndObject();
                    });
                    await events.DoneAsync();
                    return;
                }

                var delta = step.Delta!;
                var first = tally.Add(step.Index, delta);
                var text = first ? echo[step.Index] + delta.Text : delta.Text;
                IReadOnlyList<ToolCall> calls = [];
                if (held is not null)
                {
                    text = held[step.Index].Add(text);
                    if (delta.Finish is not null)
                    {
                        (var rest, calls) = held[step.Index].Finish();
                        text += rest;
                    }
                }

                LogprobsPart? logprobs = null;
                if (tokenText is not null)
                {
                    tally.TextOffsets[step.Index] += first ? echo[step.Index].Length : 0;
                    logprobs = new LogprobsPart(answer.Chat, delta.Tokens, tokenText, tally.TextOffsets[step.Index]);
                    tally.TextOffsets[step.Index] += logprobs.TextLength;
                }

                if (calls.Count == 0)
                {
                    var finish = delta.Finish is { } reason ? ChoiceTally.FinishName(reason) : null;
                    await events.WriteAsync(writer => OpenAiJson.WriteChunk(writer, answer.Chat, answer.Id, answer.Created, answer.Model, step.Index, text, first, finish, request.IncludeUsage, logprobs));
                    continue;
                }

                // The answer called tools: its text first, then the calls, then the finish.
                tally.Finishes[step.Index] = "tool_calls";
                await events.WriteAsync(writer => OpenAiJson.WriteChunk(writer, answer.Chat, answer.Id, answer.Created, answer.Model, step.Index, text, first, null, request.IncludeUsage, logprobs));
                await events.WriteAsync(writer => OpenAiJson.WriteToolCallChunk(writer, answer.Id, answer.Created, answer.Model, step.Index, calls, request.IncludeUsage));
                await events.WriteAsync(writer => OpenAiJson.WriteChunk(writer, answer.Chat, answer.Id, answer.Created, answer.Model, step.Index, string.Empty, false, "tool_calls", request.IncludeUsage, null));
            }

            if (request.IncludeUsage)
            {
                await events.WriteAsync(writer => OpenAiJson.WriteUsageChunk(writer, answer.Chat, answer.Id, answer.Created, answer.Model, tally.Usage));
            }

            await events.DoneAsync();
            tally.Succeeded = true;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client left: its sequences are cancelled with the request.
        }
    }

    private static GenerationRunner? Generative(ModelManager models, string name) =>
        models.Resolve(name, null, out var runner) is null ? runner as GenerationRunner : null;

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        using var buffer = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenMemory.Length;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    /// <summary>Who answers: the object kind, its id, creation time and model name.</summary>
    private sealed record Answer(bool Chat, string Id, long Created, string Model);
}
