using Turbine.Client;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>Closed-loop clients that infer until stopped and keep every failure they were not told to tolerate.</summary>
internal sealed class SteadyTraffic : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _clients;
    private readonly List<string> _failures = [];
    private readonly Func<TurbineClientException, bool> _tolerate;
    private int _succeeded;
    private TaskCompletionSource<bool>? _reached;
    private int _target;

    public SteadyTraffic(TurbineHttpClient client, string model, int clients, Func<TurbineClientException, bool>? tolerate = null)
    {
        _tolerate = tolerate ?? (_ => false);
        _clients = [.. Enumerable.Range(0, clients).Select(_ => Task.Run(() => LoopAsync(client, model)))];
    }

    public int Succeeded => Volatile.Read(ref _succeeded);

    /// <summary>Completes once <paramref name="count"/> requests have succeeded in all.</summary>
    public Task<bool> WaitForRequestsAsync(int count)
    {
        var reached = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _target, count);
        Volatile.Write(ref _reached, reached);
        if (Succeeded >= count)
        {
            reached.TrySetResult(true);
        }

        return reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task<(int Succeeded, IReadOnlyList<string> Failures)> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
        lock (_failures)
        {
            return (Succeeded, [.. _failures]);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task LoopAsync(TurbineHttpClient client, string model)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var request = AddSubRequests.Create(model);
                using var response = await client.InferAsync(request);
                if (Interlocked.Increment(ref _succeeded) >= Volatile.Read(ref _target))
                {
                    Volatile.Read(ref _reached)?.TrySetResult(true);
                }
            }
            catch (TurbineClientException e) when (!_tolerate(e))
            {
                lock (_failures)
                {
                    _failures.Add($"{e.HttpStatus}: {e.Message}");
                }
            }
            catch (TurbineClientException)
            {
                // a documented transient error
            }
        }
    }
}
