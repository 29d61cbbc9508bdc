namespace Turbine.Core.Lifecycle;

/// <summary>
/// Runs a model load on a thread of its own. Loading blocks for as long as the backend takes (reading, optimising and
/// warming a model can take seconds); on a thread-pool thread that would hold one of the few threads that serve
/// requests, and other models' latency would jump while the pool grows.
/// </summary>
internal static class LoaderThread
{
    public static Task<T> RunAsync<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                completion.SetResult(work());
            }
            catch (Exception e)
            {
                completion.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "turbine model load",
        };
        thread.Start();
        return completion.Task;
    }
}
