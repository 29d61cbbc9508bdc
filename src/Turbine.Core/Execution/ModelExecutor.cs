using Turbine.Core.Caching;
using Turbine.Core.Lifecycle;

namespace Turbine.Core.Execution;

/// <summary>
/// Runs a request on a model version: resolves the version, validates the request against it, answers from the
/// response cache or queues it on that version's runner. Also tells what the models are (metadata, statistics, the
/// repository index). Routes and pipelines sit in front of this (Turbine.Traffic); a protocol that serves models only
/// can call it directly.
/// </summary>
public sealed class ModelExecutor
{
    /// <summary>How often a request follows a reload to the version that replaced the one it found.</summary>
    private const int MaxResolveAttempts = 3;

    /// <summary>One spec check per loaded configuration, made once, so that handing one to a decoder allocates nothing.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ModelConfig, InputSpecCheck> SpecChecks = new();

    private readonly ModelManager _models;
    private readonly ResponseCache _cache;
    private readonly TimeProvider _time;
    private readonly IRequestScreen? _screen;
    private readonly ModelPager? _pager;
    private readonly RequestCoalescer _coalescer = new();

    /// <summary>Creates the executor over <paramref name="models"/> with a response cache (none by default).</summary>
    /// <param name="models">The models.</param>
    /// <param name="cache">The response cache.</param>
    /// <param name="time">The clock that times cache lookups (the system's by default).</param>
    /// <param name="screen">What looks at each validated request before it runs (data-quality rules), if anything.</param>
    /// <param name="pager">What loads a model absent from memory on its request, if models are paged (docs/BACKENDS.md).</param>
    public ModelExecutor(ModelManager models, ResponseCache? cache = null, TimeProvider? time = null, IRequestScreen? screen = null, ModelPager? pager = null)
    {
        _models = models;
        _screen = screen;
        _pager = pager;
        _cache = cache ?? new ResponseCache(0);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The model manager behind the executor.</summary>
    public ModelManager Models => _models;

    /// <summary>
    /// The check a protocol decoder makes on each input before it decodes or copies the input's data: the spec of the
    /// version that will serve <paramref name="model"/>. Null for names that resolve to no ready version, whose
    /// requests are refused once decoded.
    /// </summary>
    public InputSpecCheck? InputCheckFor(string model, string? version) =>
        _models.Resolve(model, version, out var runner) is null
            ? SpecChecks.GetValue(runner!.Config, static config => (name, dataType, shape) => InferenceRequestValidator.CheckSpec(config, name, dataType, shape))
            : null;

    /// <summary>Runs one request on the model it names. The caller keeps ownership of <paramref name="request"/> and disposes the response.</summary>
    public ValueTask<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(request, request.ModelName, request.ModelVersion, cancellationToken);
    }

    /// <summary>Runs a request on a version of <paramref name="model"/> (its default one when <paramref name="version"/> is empty).</summary>
    public ValueTask<InferenceResult> RunAsync(InferenceRequest request, string model, string? version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return OutputClassifier.IsRequested(request) ? ClassifyAsync(request, model, version, cancellationToken) : RunCoreAsync(request, model, version, cancellationToken);
    }

    /// <summary>A request that asks for classes: checked against the model first, its outputs classified once answered.</summary>
    private async ValueTask<InferenceResult> ClassifyAsync(InferenceRequest request, string model, string? version, CancellationToken cancellationToken)
    {
        if (_models.Resolve(model, version, out var runner) is null && OutputClassifier.Check(runner!.Config, request) is { } refused)
        {
            return InferenceResult.Failed(refused);
        }

        var result = await RunCoreAsync(request, model, version, cancellationToken);
        if (result.Response is { } response && _models.Resolve(model, response.ModelVersion, out var answered) is null)
        {
            OutputClassifier.Apply(response, request, answered!.Config);
        }

        return result;
    }

    private ValueTask<InferenceResult> RunCoreAsync(InferenceRequest request, string model, string? version, CancellationToken cancellationToken, bool mayPageIn = true)
    {
        for (var attempt = 1; ; attempt++)
        {
            var error = _models.Resolve(model, version, out var runner);
            if (error is not null)
            {
                return mayPageIn && _pager is not null && _pager.Pages(model)
                    ? PageInThenRunAsync(request, model, version, cancellationToken)
                    : ValueTask.FromResult(InferenceResult.Failed(error));
            }

            _pager?.Touch(model);

            error = InferenceRequestValidator.Validate(runner!.Config, request, out var validated) ?? _screen?.Screen(runner, request);
            if (error is not null)
            {
                runner.Statistics.Fail.Record(0);
                return ValueTask.FromResult(InferenceResult.Failed(error));
            }

            if (runner.Config.ResponseCache)
            {
                // A model whose answers may be cached is deterministic: a cached answer, or an identical request's run.
                var lookup = _time.GetTimestamp();
                var key = ResponseCache.KeyOf(runner, request, validated!);
                if (_cache.IsEnabled && _cache.TryGet(key, out var outputs))
                {
                    return ValueTask.FromResult(SharedAnswer(runner, request, validated!, outputs, lookup, fromCache: true));
                }

                var flight = _coalescer.Join(key, out var lead);
                return lead ? LeadAsync(flight, runner, request, validated!, key, lookup, cancellationToken) : FollowAsync(flight, runner, request, validated!, key, lookup, cancellationToken);
            }

            var pending = runner.EnqueueAsync(request, validated!, cancellationToken);
            if (!pending.IsCompleted)
            {
                return pending;
            }

            // A reload swaps the snapshot before it drains the versions it replaces, so a runner found retired here
            // was replaced between Resolve and Enqueue: resolving again finds its successor (SECURITY.md F9).
            var result = pending.Result;
            if (attempt < MaxResolveAttempts && result.Error is not null && runner.IsRetired)
            {
                continue;
            }

            return ValueTask.FromResult(result);
        }
    }

    /// <summary>
    /// Loads a paged-out model for the request (waiting, bounded), then queues the request on it; the pager's hold
    /// keeps the model in until the request is queued, and the queue after that.
    /// </summary>
    private async ValueTask<InferenceResult> PageInThenRunAsync(InferenceRequest request, string model, string? version, CancellationToken cancellationToken)
    {
        var (hold, error) = await _pager!.PageInAsync(model, cancellationToken);
        if (error is not null)
        {
            return InferenceResult.Failed(error);
        }

        ValueTask<InferenceResult> run;
        using (hold)
        {
            run = RunCoreAsync(request, model, version, cancellationToken, mayPageIn: false);
        }

        return await run;
    }

    /// <summary>Finds a ready model version (the default one when <paramref name="version"/> is empty) and describes it.</summary>
    public InferenceError? TryGetModel(string name, string? version, out ModelVersionInfo? info)
    {
        ArgumentNullException.ThrowIfNull(name);
        info = null;
        var error = _models.Resolve(name, version, out var runner);
        if (error is not null)
        {
            return error;
        }

        info = Describe(_models.Snapshot(name)!, runner!);
        return null;
    }

    /// <summary>Triton's repository index over the models: every version, sorted by model name.</summary>
    public List<RepositoryIndexEntry> Index(bool readyOnly) => [.. _models.Index(readyOnly)];

    /// <summary>Statistics of one model version, all versions of one model, or every model (Triton's statistics extension).</summary>
    public InferenceError? Statistics(string? name, string? version, out IReadOnlyList<ModelVersionInfo> result)
    {
        var list = new List<ModelVersionInfo>();
        result = list;
        if (string.IsNullOrEmpty(name))
        {
            foreach (var snapshot in _models.Snapshots())
            {
                foreach (var runner in snapshot.Runners)
                {
                    list.Add(Describe(snapshot, runner));
                }
            }

            list.Sort((a, b) => string.CompareOrdinal(a.Config.Name + "/" + a.Version, b.Config.Name + "/" + b.Version));
            return null;
        }

        if (!string.IsNullOrEmpty(version))
        {
            var error = TryGetModel(name, version, out var info);
            if (info is not null)
            {
                list.Add(info);
            }

            return error;
        }

        var found = _models.Resolve(name, null, out _);
        if (found is not null)
        {
            return found;
        }

        var model = _models.Snapshot(name)!;
        foreach (var runner in model.Runners)
        {
            list.Add(Describe(model, runner));
        }

        return null;
    }

    private static ModelVersionInfo Describe(ModelSnapshot snapshot, IVersionRunner runner)
    {
        var versions = new List<string>();
        foreach (var ready in snapshot.Runners)
        {
            versions.Add(ready.VersionText);
        }

        return new ModelVersionInfo(runner.Config, runner.VersionText, versions, runner.Statistics, runner.QueuedRequests, runner.ExecutingRequests);
    }

    /// <summary>
    /// Runs the request for itself and for any identical one that arrives meanwhile (<see cref="RequestCoalescer"/>): through
    /// the shared store when there is one, else the model; its answer is cached when caching is on.
    /// </summary>
    private async ValueTask<InferenceResult> LeadAsync(RequestCoalescer.Flight flight, IVersionRunner runner, InferenceRequest request, ValidatedRequest validated, string key, long started, CancellationToken cancellationToken)
    {
        InferenceResult result = default;
        try
        {
            if (_cache.Shared is { } shared)
            {
                result = await AnswerFromSharedOrRunAsync(shared, runner, request, validated, key, started, cancellationToken);
                return result;
            }

            if (_cache.IsEnabled)
            {
                runner.Statistics.CacheMiss.Record(ElapsedNanoseconds(started));
            }

            result = await RunUncachedAsync(runner, request, validated, cancellationToken);
            return _cache.IsEnabled ? Remember(result, key) : result;
        }
        finally
        {
            _coalescer.Land(flight, result.Response?.Outputs);
        }
    }

    /// <summary>Waits for an identical request's run and answers with copies of its outputs; runs on its own if that run failed.</summary>
    private async ValueTask<InferenceResult> FollowAsync(RequestCoalescer.Flight flight, IVersionRunner runner, InferenceRequest request, ValidatedRequest validated, string key, long started, CancellationToken cancellationToken)
    {
        List<Tensor>? outputs;
        try
        {
            outputs = await _coalescer.FollowAsync(flight, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return InferenceResult.Failed(StatusCode.Cancelled, "the request was cancelled while an identical one ran");
        }

        if (outputs is not null)
        {
            return SharedAnswer(runner, request, validated, outputs, started, fromCache: false);
        }

        var result = await RunUncachedAsync(runner, request, validated, cancellationToken);
        return _cache.IsEnabled ? Remember(result, key) : result;
    }

    /// <summary>Runs the model; a runner replaced by a reload meanwhile sends the request to its successor (SECURITY.md F9).</summary>
    private async ValueTask<InferenceResult> RunUncachedAsync(IVersionRunner runner, InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken)
    {
        var result = await runner.EnqueueAsync(request, validated, cancellationToken);
        return result.Error is not null && runner.IsRetired
            ? await RunAsync(request, runner.Config.Name, runner.VersionText, cancellationToken)
            : result;
    }

    /// <summary>
    /// After an in-memory miss: asks the shared store (Redis), answers from it (and keeps the answer in memory too), or
    /// runs the model and stores its answer in both. A store that is down or slow is a miss, never a failure.
    /// </summary>
    private async ValueTask<InferenceResult> AnswerFromSharedOrRunAsync(
        ISharedResponseStore shared, IVersionRunner runner, InferenceRequest request, ValidatedRequest validated, string key, long started, CancellationToken cancellationToken)
    {
        if (await shared.GetAsync(key, cancellationToken) is { } bytes && CachedOutputsCodec.TryDecode(bytes, out var outputs))
        {
            _cache.Put(key, outputs);
            return SharedAnswer(runner, request, validated, outputs, started, fromCache: true);
        }

        runner.Statistics.CacheMiss.Record(ElapsedNanoseconds(started));
        return Remember(await RunUncachedAsync(runner, request, validated, cancellationToken), key);
    }

    /// <summary>An answer from outputs another run computed: the cache's (a hit) or an identical request's.</summary>
    private InferenceResult SharedAnswer(IVersionRunner runner, InferenceRequest request, ValidatedRequest validated, List<Tensor> outputs, long started, bool fromCache)
    {
        var response = new InferenceResponse { ModelName = runner.Config.Name, ModelVersion = runner.VersionText, Id = request.Id };
        response.Outputs.AddRange(outputs);
        response.OutputBinary.AddRange(validated.OutputBinary);
        var elapsed = ElapsedNanoseconds(started);
        if (fromCache)
        {
            runner.Statistics.CacheHit.Record(elapsed);
        }

        runner.Statistics.Success.Record(elapsed);
        return new InferenceResult(response, null);
    }

    private InferenceResult Remember(InferenceResult result, string key)
    {
        if (result.Response is { } response)
        {
            _cache.Put(key, response.Outputs);
            _cache.Shared?.Put(key, CachedOutputsCodec.Encode(response.Outputs));
        }

        return result;
    }

    private long ElapsedNanoseconds(long started) => (long)_time.GetElapsedTime(started).TotalNanoseconds;
}
