using System.Threading.Channels;
using Turbine.Core.Execution;

namespace Turbine.Custom;

/// <summary>
/// Serves one custom model version: each request takes an idle instance of the model's class (requests beyond the
/// instances wait, counted as queued), runs it asynchronously, and has its outputs checked against the configuration
/// before they are answered. Unloading drains the requests in flight, disposes the instances and unloads the load
/// context, so that once nothing references the model's types its assemblies are collected.
/// </summary>
internal sealed class CustomModelRunner : VersionRunnerBase
{
    /// <summary>The custom model runs the current call is nested in, innermost first.</summary>
    private static readonly AsyncLocal<Caller?> Callers = new();

    private readonly IReadOnlyList<ICustomModel> _instances;
    private readonly Channel<ICustomModel> _idle;
    private CustomModelLoadContext? _loadContext;

    public CustomModelRunner(VersionLoadContext context, CustomModelLoadContext loadContext, IReadOnlyList<ICustomModel> instances)
        : base(context)
    {
        _loadContext = loadContext;
        LoadContextReference = new WeakReference(loadContext);
        _instances = instances;
        _idle = Channel.CreateUnbounded<ICustomModel>();
        foreach (var instance in instances)
        {
            _idle.Writer.TryWrite(instance);
        }
    }

    public override int WarmupConcurrency => _instances.Count;

    /// <summary>The load context the model's assemblies live in, weakly (what a test watches to see them collected).</summary>
    internal WeakReference LoadContextReference { get; }

    protected override async ValueTask<InferenceResult> RunAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken)
    {
        var started = Context.Time.GetTimestamp();
        for (var caller = Callers.Value; caller is not null; caller = caller.Outer)
        {
            if (caller.Runner == this)
            {
                // It would wait for an instance that its own caller holds: with one instance, forever.
                return Failed(InferenceError.Invalid($"the custom model '{Config.Name}' calls itself (directly or through other models), which would wait for its own instance"), started);
            }
        }

        Callers.Value = new Caller(this, Callers.Value); // flows into the model's calls, and ends with this method
        ICustomModel instance;
        StartWaiting();
        try
        {
            instance = await _idle.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return InferenceResult.Failed(StatusCode.Cancelled, "the request was cancelled while waiting for an instance of the model");
        }
        finally
        {
            StopWaiting();
        }

        var queued = Context.Time.GetTimestamp();
        StartExecuting();
        try
        {
            var outputs = await instance.ExecuteAsync(Describe(request, validated), cancellationToken).ConfigureAwait(false);
            var error = CustomOutputs.Check(Config, validated, outputs, out var answered);
            if (error is not null)
            {
                return Failed(error, started);
            }

            var response = new InferenceResponse { ModelName = Config.Name, ModelVersion = VersionText, Id = request.Id };
            response.Outputs.AddRange(answered!);
            response.OutputBinary.AddRange(validated.OutputBinary);
            var finished = Context.Time.GetTimestamp();
            Statistics.Queue.Record(Nanoseconds(started, queued));
            Statistics.Success.Record(Nanoseconds(started, finished));
            Statistics.RecordExecution(validated.BatchSize, 0, Nanoseconds(queued, finished), 0, Context.Time.GetUtcNow().ToUnixTimeMilliseconds());
            return new InferenceResult(response, null);
        }
        catch (InferenceException e)
        {
            return Failed(e.Error, started);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Failed(new InferenceError(StatusCode.Cancelled, "the request was cancelled"), started);
        }
#pragma warning disable CA1031 // the model is code from the repository: whatever it throws is that request's 500, never the server's
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Failed(InferenceError.Internal($"the custom model '{Config.Name}' failed: {e.GetType().Name}: {e.Message}"), started);
        }
        finally
        {
            StopExecuting();
            _idle.Writer.TryWrite(instance);
        }
    }

    protected override async ValueTask ReleaseAsync()
    {
        _idle.Writer.TryComplete();
        foreach (var instance in _instances)
        {
            if (instance is IAsyncDisposable asynchronous)
            {
                await asynchronous.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                Release(instance);
            }
        }

        if (Interlocked.Exchange(ref _loadContext, null) is { } loadContext)
        {
            loadContext.Unload();
        }
    }

    /// <summary>Disposes an instance synchronously if it is disposable (a failed load, or one without async disposal).</summary>
    internal static void Release(ICustomModel instance)
    {
        switch (instance)
        {
            case IDisposable disposable:
                disposable.Dispose();
                break;
            case IAsyncDisposable asynchronous:
                asynchronous.DisposeAsync().AsTask().GetAwaiter().GetResult();
                break;
        }
    }

    private static CustomModelRequest Describe(InferenceRequest request, ValidatedRequest validated)
    {
        var inputs = new List<Tensor>(validated.Inputs.Length);
        foreach (var input in validated.Inputs)
        {
            if (input is not null)
            {
                inputs.Add(input);
            }
        }

        var requested = new string[request.Outputs.Count];
        for (var i = 0; i < requested.Length; i++)
        {
            requested[i] = request.Outputs[i].Name;
        }

        return new CustomModelRequest(request.Id, inputs, requested, request.Parameters ?? (IReadOnlyDictionary<string, object>)System.Collections.Frozen.FrozenDictionary<string, object>.Empty);
    }

    private InferenceResult Failed(InferenceError error, long started)
    {
        Statistics.Fail.Record(Nanoseconds(started, Context.Time.GetTimestamp()));
        return InferenceResult.Failed(error);
    }

    private sealed record Caller(CustomModelRunner Runner, Caller? Outer);

    private long Nanoseconds(long from, long to) => (long)Context.Time.GetElapsedTime(from, to).TotalNanoseconds;
}
