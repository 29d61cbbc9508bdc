using System.Threading.Channels;
using Turbine.Core.Execution;

namespace Turbine.Traffic;

/// <summary>
/// Runs one route's mirrored requests against its shadow model, one at a time, off every client's path. Work waits in
/// a bounded queue; when it is full the mirror is dropped and counted, so a slow or failing shadow can never hold a
/// client's request, its latency or its memory. Each route has its own mirror: a stuck shadow stalls only itself.
/// A route replaced or removed, and the server stopping, complete the mirror: what is queued is released, and the
/// drain task ends instead of waiting forever on a queue nobody writes to.
/// </summary>
internal sealed class ShadowMirror(TimeProvider time)
{
    /// <summary>Mirrored requests that may wait at once.</summary>
    public const int Capacity = 64;

    private readonly Channel<ShadowWork> _queue = Channel.CreateBounded<ShadowWork>(new BoundedChannelOptions(Capacity) { SingleReader = true });
    private int _started;
    private Task _drain = Task.CompletedTask;

    /// <summary>
    /// Queues a mirror of a request the primary answered; takes ownership of <paramref name="request"/> and
    /// <paramref name="primaryOutputs"/>. <paramref name="run"/> runs a request on a model and version, without routes.
    /// </summary>
    public void Offer(CompiledRoute route, InferenceRequest request, List<Tensor> primaryOutputs, TimeSpan primaryLatency, Func<InferenceRequest, string, string?, ValueTask<InferenceResult>> run)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            Volatile.Write(ref _drain, Task.Run(() => DrainAsync(run)));
        }

        var work = new ShadowWork(route, request, primaryOutputs, primaryLatency);
        if (_queue.Writer.TryWrite(work))
        {
            route.Shadow.Mirrored();
        }
        else
        {
            route.Shadow.Dropped();
            work.Dispose();
        }
    }

    /// <summary>The drain task: completed before the first mirror, and again once the mirror was stopped.</summary>
    public Task Drain => Volatile.Read(ref _drain);

    /// <summary>Takes no more work, releases what waits, and ends the drain once the shadow request running now returns.</summary>
    public Task StopAsync()
    {
        _queue.Writer.TryComplete();
        Interlocked.Exchange(ref _started, 1); // a late Offer must not start a drain on a completed queue
        while (_queue.Reader.TryRead(out var left))
        {
            left.Dispose();
        }

        return Volatile.Read(ref _drain);
    }

    /// <summary>A copy of a request's inputs, requested outputs and parameters, owned by the mirror.</summary>
    public static InferenceRequest Copy(InferenceRequest request, string model)
    {
        var copy = new InferenceRequest { ModelName = model, Id = request.Id, Parameters = request.Parameters is null ? null : new(request.Parameters, StringComparer.Ordinal) };
        foreach (var input in request.Inputs)
        {
            copy.Inputs.Add(new Tensor(input.Name, input.DataType, [.. input.Shape], TensorBuffer.CopyOf(input.Data.Span)));
        }

        copy.Outputs.AddRange(request.Outputs);
        return copy;
    }

    private async Task DrainAsync(Func<InferenceRequest, string, string?, ValueTask<InferenceResult>> run)
    {
        await foreach (var work in _queue.Reader.ReadAllAsync())
        {
            using (work)
            {
                var shadow = work.Route.Definition.Shadow!;
                var started = time.GetTimestamp();
                InferenceResult result;
                try
                {
                    result = await run(work.Request, shadow.Model, shadow.Version);
                }
#pragma warning disable CA1031 // whatever the shadow does, it is counted and forgotten; the mirror keeps going
                catch (Exception)
#pragma warning restore CA1031
                {
                    work.Route.Shadow.Failed();
                    continue;
                }

                using var response = result.Response;
                if (response is null)
                {
                    work.Route.Shadow.Failed();
                    continue;
                }

                work.Route.Shadow.Compare(work.PrimaryOutputs, response.Outputs, work.PrimaryLatency, time.GetElapsedTime(started));
            }
        }
    }

    private sealed record ShadowWork(CompiledRoute Route, InferenceRequest Request, List<Tensor> PrimaryOutputs, TimeSpan PrimaryLatency) : IDisposable
    {
        public void Dispose()
        {
            Request.Dispose();
            PrimaryOutputs.ForEach(t => t.Dispose());
        }
    }
}
