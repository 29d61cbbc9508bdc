using System.Threading.Channels;

namespace Turbine.Core.Execution;

/// <summary>
/// Serves one model version: a bounded queue feeding one long-running worker loop per model instance. A full
/// queue refuses at once (no unbounded waiting); a request cancelled while queued is dropped before it runs.
/// </summary>
internal sealed class ModelVersionRunner : IAsyncDisposable
{
    private readonly Channel<WorkItem> _queue;
    private readonly IModelInstance[] _instances;
    private readonly Task[] _workers;
    private readonly TimeProvider _time;

    public ModelVersionRunner(ModelConfig config, long version, IModelInstance[] instances, TimeProvider time)
    {
        Config = config;
        Version = version;
        VersionText = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _instances = instances;
        _time = time;
        _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(config.MaxQueueSize)
        {
            SingleWriter = false,
            SingleReader = instances.Length == 1,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _workers = new Task[instances.Length];
        for (var i = 0; i < instances.Length; i++)
        {
            var instance = instances[i];
            _workers[i] = Task.Factory.StartNew(() => WorkerLoopAsync(instance), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        }
    }

    public ModelConfig Config { get; }

    public long Version { get; }

    public string VersionText { get; }

    public ModelStatistics Statistics { get; } = new();

    public ValueTask<InferenceResult> EnqueueAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken)
    {
        var item = new WorkItem(request, validated, _time.GetTimestamp(), cancellationToken);
        if (!_queue.Writer.TryWrite(item))
        {
            var message = _queue.Reader.Completion.IsCompleted
                ? $"model '{Config.Name}' version {VersionText} is unloading"
                : $"model '{Config.Name}' version {VersionText} queue is full ({Config.MaxQueueSize} requests); retry later";
            var code = _queue.Reader.Completion.IsCompleted ? StatusCode.Unavailable : StatusCode.ResourceExhausted;
            return ValueTask.FromResult(InferenceResult.Failed(code, message));
        }

        return new ValueTask<InferenceResult>(item.Completion.Task);
    }

    /// <summary>Stops taking requests, lets queued ones finish, then releases the instances.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers);
        foreach (var instance in _instances)
        {
            instance.Dispose();
        }
    }

    private async Task WorkerLoopAsync(IModelInstance instance)
    {
        var results = new List<Tensor>();
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (_queue.Reader.TryRead(out var item))
            {
                Execute(instance, item, results);
            }
        }
    }

    private void Execute(IModelInstance instance, WorkItem item, List<Tensor> results)
    {
        var started = _time.GetTimestamp();
        if (item.CancellationToken.IsCancellationRequested)
        {
            Complete(item, InferenceResult.Failed(StatusCode.Cancelled, "the request was cancelled before it ran"));
            return;
        }

        Statistics.Queue.Record(Nanoseconds(item.EnqueuedAt, started));
        results.Clear();
        InferenceError? error;
        try
        {
            error = instance.Run(item.Validated.Inputs, item.Validated.Outputs, results);
        }
#pragma warning disable CA1031 // A backend fault fails this request only; the model stays ready (SECURITY.md F6).
        catch (Exception e)
#pragma warning restore CA1031
        {
            error = InferenceError.Internal($"model execution failed: {e.GetType().Name}");
        }

        var ran = _time.GetTimestamp();
        if (error is not null)
        {
            DisposeAll(results);
            Complete(item, InferenceResult.Failed(error));
            return;
        }

        var response = new InferenceResponse { ModelName = Config.Name, ModelVersion = VersionText, Id = item.Request.Id };
        response.Outputs.AddRange(results);
        response.OutputBinary.AddRange(item.Validated.OutputBinary);
        results.Clear();
        var finished = _time.GetTimestamp();
        Statistics.RecordExecution(item.Validated.BatchSize, 0, Nanoseconds(started, ran), Nanoseconds(ran, finished), _time.GetUtcNow().ToUnixTimeMilliseconds());
        Complete(item, new InferenceResult(response, null));
    }

    private void Complete(WorkItem item, InferenceResult result)
    {
        var total = Nanoseconds(item.EnqueuedAt, _time.GetTimestamp());
        (result.Error is null ? Statistics.Success : Statistics.Fail).Record(total);
        if (!item.Completion.TrySetResult(result))
        {
            result.Response?.Dispose();
        }

    }

    private long Nanoseconds(long from, long to) => (long)_time.GetElapsedTime(from, to).TotalNanoseconds;

    private static void DisposeAll(List<Tensor> tensors)
    {
        foreach (var tensor in tensors)
        {
            tensor.Dispose();
        }

        tensors.Clear();
    }

    private sealed class WorkItem(InferenceRequest request, ValidatedRequest validated, long enqueuedAt, CancellationToken cancellationToken)
    {
        public InferenceRequest Request { get; } = request;

        public ValidatedRequest Validated { get; } = validated;

        public long EnqueuedAt { get; } = enqueuedAt;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<InferenceResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
