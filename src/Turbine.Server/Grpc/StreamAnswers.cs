using Grpc.Core;
using Turbine.Protocols.Grpc;

namespace Turbine.Server.Grpc;

/// <summary>
/// The answers of one <c>ModelStreamInfer</c> stream: requests run side by side, up to <see cref="MaxInFlight"/> at a
/// time (reading the stream waits beyond that, which HTTP/2 flow control passes back to the client), and their answers
/// are written one at a time, in the order they finish. Streaming clients keep many requests in flight and match
/// each answer to its request by id, as Triton's do.
/// </summary>
internal sealed class StreamAnswers(IServerStreamWriter<ModelStreamInferResponse> writer, CancellationToken cancellationToken) : IDisposable
{
    /// <summary>Requests of one stream running at once; as many as HTTP/2 streams a connection may hold.</summary>
    public const int MaxInFlight = 256;

    private readonly SemaphoreSlim _slots = new(MaxInFlight, MaxInFlight);
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _outstanding = 1; // the reader's own count, released by DrainAsync

    /// <summary>Starts answering <paramref name="request"/> once a slot is free; returns when it has started.</summary>
    public async Task StartAsync(ModelInferRequest request, Func<ModelInferRequest, Task<ModelStreamInferResponse>> answer)
    {
        await _slots.WaitAsync(cancellationToken);
        Interlocked.Increment(ref _outstanding);
        _ = AnswerAsync(request, answer);
    }

    /// <summary>After the last request was read: waits until every answer is written.</summary>
    public Task DrainAsync()
    {
        Release();
        return _drained.Task;
    }

    private async Task AnswerAsync(ModelInferRequest request, Func<ModelInferRequest, Task<ModelStreamInferResponse>> answer)
    {
        try
        {
            var response = await answer(request);
            await _writing.WaitAsync(cancellationToken);
            try
            {
                await writer.WriteAsync(response, cancellationToken);
            }
            finally
            {
                _writing.Release();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
        {
            // The client went away (or the call ended) before this answer could be written: nobody is left to tell.
        }
        finally
        {
            _slots.Release();
            Release();
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _outstanding) == 0)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>After <see cref="DrainAsync"/> has completed.</summary>
    public void Dispose()
    {
        _slots.Dispose();
        _writing.Dispose();
    }
}
