using System.Globalization;
using System.Text;
using Turbine.Core.Execution;

namespace Turbine.Llm.Serving;

/// <summary>
/// Serves one version of a generative model behind the same seam as every other model, so versions, labels, hot
/// reload, routes and statistics treat it alike. A KServe v2 request runs as one whole generation
/// (<see cref="KServeGeneration"/>); the OpenAI endpoints and streaming reach <see cref="Model"/> directly. Retiring
/// waits for the generations in flight before the engine stops.
/// </summary>
public sealed class GenerationRunner(GenerativeModel model, VersionLoadContext context) : IVersionRunner
{
    private readonly TimeProvider _time = context.Time;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private int _retired;

    /// <summary>The model, for the generation endpoints.</summary>
    public GenerativeModel Model => model;

    /// <summary>When the version was loaded (the OpenAI model object's <c>created</c>).</summary>
    public DateTimeOffset LoadedAt { get; } = context.Time.GetUtcNow();

    /// <inheritdoc />
    public ModelConfig Config => context.Config;

    /// <inheritdoc />
    public long Version => context.Version;

    /// <inheritdoc />
    public string VersionText { get; } = context.Version.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public string LoadIdentity => context.LoadIdentity;

    /// <inheritdoc />
    public ModelStatistics Statistics { get; } = new();

    /// <inheritdoc />
    public bool IsRetired => Volatile.Read(ref _retired) != 0;

    /// <inheritdoc />
    public int QueuedRequests => model.Engine.Statistics.Waiting;

    /// <inheritdoc />
    public int ExecutingRequests => model.Engine.Statistics.Running;

    /// <inheritdoc />
    public int WarmupConcurrency => 1;

    /// <summary>
    /// Counts a generation in, unless the runner is retiring; pair with <see cref="Leave"/>. Endpoints that stream call it
    /// around their own generation so that a reload never stops the engine under them.
    /// </summary>
    public bool TryEnter()
    {
        Interlocked.Increment(ref _inFlight);
        if (IsRetired)
        {
            Leave();
            return false;
        }

        return true;
    }

    /// <summary>Counts a generation out.</summary>
    public void Leave()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && IsRetired)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Records a finished generation in the version's statistics.</summary>
    public void Record(long startedTimestamp, bool success, int generatedTokens)
    {
        var nanoseconds = (long)_time.GetElapsedTime(startedTimestamp).TotalNanoseconds;
        (success ? Statistics.Success : Statistics.Fail).Record(nanoseconds);
        if (success)
        {
            Statistics.RecordExecution(Math.Max(1, generatedTokens), 0, nanoseconds, 0, _time.GetUtcNow().ToUnixTimeMilliseconds());
        }
    }

    /// <inheritdoc />
    public async ValueTask<InferenceResult> EnqueueAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(validated);
        if (!TryEnter())
        {
            return InferenceResult.Failed(StatusCode.Unavailable, "the version is being unloaded");
        }

        var started = _time.GetTimestamp();
        var generated = 0;
        var success = false;
        try
        {
            var input = request.Inputs.Find(i => i.Name == KServeGeneration.TextInput);
            var prompts = input?.ToStrings();
            if (prompts is not { Length: 1 })
            {
                return InferenceResult.Failed(StatusCode.InvalidArgument, $"'{KServeGeneration.TextInput}' must hold one string");
            }

            var parameters = KServeGeneration.Merge(request, out var problem);
            if (parameters is null || KServeGeneration.Options(parameters, out var excludeInput, out problem) is not { } options)
            {
                return InferenceResult.Failed(StatusCode.InvalidArgument, problem!);
            }

            var text = new StringBuilder(excludeInput ? string.Empty : prompts[0]);
            var prompt = model.Encode(prompts[0]);
            var finish = "length";
            await foreach (var delta in model.Text.StreamAsync(prompt, options, cancellationToken))
            {
                text.Append(delta.Text);
                generated = delta.CompletionTokens;
                finish = delta.Finish == Engine.FinishReason.Stop ? "stop" : finish;
            }

            var response = new InferenceResponse { ModelName = request.ModelName, ModelVersion = VersionText, Id = request.Id };
            foreach (var output in validated.Outputs)
            {
                response.Outputs.Add(output.Name switch
                {
                    KServeGeneration.InputTokensOutput => Tensor.FromArray<int>(output.Name, [1], [prompt.Count]),
                    KServeGeneration.OutputTokensOutput => Tensor.FromArray<int>(output.Name, [1], [generated]),
                    KServeGeneration.FinishReasonOutput => Tensor.FromStrings(output.Name, [1], [finish]),
                    _ => Tensor.FromStrings(output.Name, [1], [text.ToString()]),
                });
            }

            success = true;
            return new InferenceResult(response, null);
        }
        catch (InferenceException e)
        {
            return InferenceResult.Failed(e.Error);
        }
        catch (OperationCanceledException)
        {
            return InferenceResult.Failed(StatusCode.Cancelled, "the request was cancelled");
        }
        finally
        {
            Record(started, success, generated);
            Leave();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _retired, 1) != 0)
        {
            return;
        }

        if (Volatile.Read(ref _inFlight) == 0)
        {
            _drained.TrySetResult();
        }

        await _drained.Task.ConfigureAwait(false);
        model.Dispose();
    }
}
