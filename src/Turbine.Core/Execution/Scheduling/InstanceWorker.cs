namespace Turbine.Core.Execution.Scheduling;

/// <summary>What every runner does the same way with its instances: a dedicated thread per worker loop, and a model run whose faults stay a value.</summary>
internal static class InstanceWorker
{
    /// <summary>
    /// Starts <paramref name="loop"/> on a thread of its own (a model run is synchronous and may take long; on the
    /// thread pool it would hold a thread that serves requests); the task completes when the loop has ended.
    /// </summary>
    public static Task Start(Action loop, string name)
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                loop();
            }
            finally
            {
                ended.SetResult();
            }
        })
        {
            IsBackground = true, // a stuck model run must not keep the process alive after shutdown's exit timeout
            Name = name,
        };
        thread.Start();
        return ended.Task;
    }

    /// <summary>Runs the instance; an exception from the backend becomes the batch's error (SECURITY.md F6: the model stays ready).</summary>
    public static InferenceError? RunSafely(IModelInstance instance, IReadOnlyList<Tensor> inputs, IReadOnlyList<TensorConfig> outputs, List<Tensor> results)
    {
        try
        {
            return instance.Run(inputs, outputs, results);
        }
#pragma warning disable CA1031 // A backend fault fails this batch only.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return InferenceError.Internal($"model execution failed: {e.GetType().Name}") with { Detail = e.Message };
        }
    }
}
