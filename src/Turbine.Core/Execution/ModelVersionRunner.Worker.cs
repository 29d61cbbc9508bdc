using Turbine.Core.Execution.Scheduling;

namespace Turbine.Core.Execution;

/// <summary>The worker loop of each instance: taking requests, gathering batches, dropping stale requests.</summary>
internal sealed partial class ModelVersionRunner
{
    /// <summary>
    /// One loop per instance, on a thread of its own: wait for a request, take the instance, take the next request,
    /// let compatible ones join it (dynamic batching), run the batch, answer each request. A request that cannot join
    /// is carried over to start the next batch. The instance is taken before the request, so that while a caller
    /// runs inline the request stays queued, where priorities, timeouts and cancellation still apply to it. A fault
    /// anywhere in a round answers every request of that round with an error and the loop goes on: no caller is
    /// left waiting on a model that still reads READY.
    /// </summary>
    private void WorkerLoop(InstanceSlot slot)
    {
        using var waiter = new QueueWaiter(_queue, _time);
        var batch = new List<WorkItem>();
        var results = new List<Tensor>();
        WorkItem? carried = null;
        while (true)
        {
            if (carried is null && !_queue.Wait(waiter, long.MaxValue))
            {
                return;
            }

            slot.Take();
            batch.Clear();
            try
            {
                var first = carried;
                carried = null;
                if (first is null && !_queue.TryDequeue(out first, hold: _batching is not null))
                {
                    continue; // another worker took it
                }

                batch.Add(first);
                if (DropIfStale(first))
                {
                    continue;
                }

                if (_batching is not null)
                {
                    carried = Gather(batch, waiter);
                    _queue.ReleaseHeld(batch); // the batch runs now: no longer waiting (the carried request still is)
                }

                RunBatch(slot, batch, results);
            }
#pragma warning disable CA1031 // whatever failed, the callers of this round are answered and the worker goes on
            catch (Exception e)
#pragma warning restore CA1031
            {
                FailRound(batch, carried, e);
                carried = null;
            }
            finally
            {
                _queue.ReleaseHeld(batch); // a round that ended early (a stale request, a fault) lets its requests go too
                slot.Release();
            }
        }
    }

    /// <summary>Answers, with an internal error, every request of a round that failed outside the model call.</summary>
    private void FailRound(List<WorkItem> batch, WorkItem? carried, Exception fault)
    {
        if (carried is not null)
        {
            batch.Add(carried);
        }

        foreach (var item in batch)
        {
            LogRoundFailed(_logger, fault, Config.Name, VersionText, item.Request.Id ?? string.Empty);
            if (!item.IsAnswered)
            {
                item.Cancellation.Dispose();
                Finish(item, InferenceResult.Failed(StatusCode.Internal, $"model '{Config.Name}' version {VersionText} failed to run the request"));
            }
        }

        _queue.ReleaseHeld(batch);
        batch.Clear();
    }

    private void RunBatch(InstanceSlot slot, List<WorkItem> batch, List<Tensor> results)
    {
        var rows = RowsOf(batch);
        Interlocked.Increment(ref _busyInstances);
        Interlocked.Add(ref _executingRequests, batch.Count);
        Interlocked.Add(ref _executingRows, rows);
        try
        {
            Execute(slot.Instance, batch, rows, results);
        }
        finally
        {
            Interlocked.Add(ref _executingRows, -rows);
            Interlocked.Add(ref _executingRequests, -batch.Count);
            Interlocked.Decrement(ref _busyInstances);
        }
    }

    private static long RowsOf(List<WorkItem> batch)
    {
        long rows = 0;
        foreach (var item in batch)
        {
            rows += item.Validated.BatchSize;
        }

        return rows;
    }

    /// <summary>
    /// Adds queued requests to <paramref name="batch"/> until it reaches the target size, waiting for more to come
    /// until the batch must start: the configured queue delay, or what the latency target leaves. With a latency
    /// target the batch also stops growing where its predicted cost would answer its most urgent request late.
    /// </summary>
    /// <returns>A request that was taken but cannot join this batch, or null.</returns>
    private WorkItem? Gather(List<WorkItem> batch, QueueWaiter waiter)
    {
        var first = batch[0];
        var rows = first.Validated.BatchSize;
        var answerBy = first.AnswerBy;
        var newest = first.EnqueuedAt;
        var startBy = StartBy(first);
        while (rows < _targetRows)
        {
            while (rows < _targetRows && _queue.TryDequeue(out var next, first.Lane, hold: true))
            {
                if (DropIfStale(next))
                {
                    _queue.ReleaseHeld(next);
                    continue;
                }

                var joined = rows + next.Validated.BatchSize;
                if (joined > Config.MaxBatchSize || !BatchAssembler.CanJoin(first.Validated, next.Validated) ||
                    _latency?.WouldBeLate(joined, _time.GetTimestamp(), Math.Min(answerBy, next.AnswerBy)) == true)
                {
                    return next;
                }

                batch.Add(next);
                rows = joined;
                answerBy = Math.Min(answerBy, next.AnswerBy);
                newest = Math.Max(newest, next.EnqueuedAt);
            }

            var waitUntil = startBy;
            if (_latency is not null)
            {
                // Wait for the next arrival only as long as arrivals have lately been coming (two gaps after the
                // newest request in the batch): when every client is already in this batch (a closed loop), nobody
                // else comes until it is answered.
                waitUntil = Math.Min(waitUntil, newest + (2 * Volatile.Read(ref _arrivalGapTicks)));
            }

            if (rows >= _targetRows || !_queue.Wait(waiter, waitUntil, first.Lane))
            {
                return null;
            }

            if (first.Lane == RequestLane.Background && _queue.Count > 0)
            {
                return null; // an online request arrived: run the background rows gathered so far and let it have the next instance
            }
        }

        return null;
    }

    private long StartBy(WorkItem first)
    {
        var byDelay = first.EnqueuedAt + (long)(_batching!.MaxQueueDelayMicroseconds * _time.TimestampFrequency / 1_000_000.0);
        if (_latency?.StartBy(first.EnqueuedAt) is not { } byTarget)
        {
            return byDelay;
        }

        return _batching.MaxQueueDelayMicroseconds > 0 ? Math.Min(byDelay, byTarget) : byTarget;
    }

    /// <summary>
    /// Answers, without running it, a request taken from the queue that was cancelled, expired under a REJECT
    /// policy, or can no longer make the latency target.
    /// </summary>
    private bool DropIfStale(WorkItem item)
    {
        // From here on only the worker answers this request, so its caller keeps the input buffers alive while the
        // model reads them.
        item.Cancellation.Dispose();
        var now = _time.GetTimestamp();
        if (item.CancellationToken.IsCancellationRequested)
        {
            Finish(item, InferenceResult.Failed(StatusCode.Cancelled, "the request was cancelled before it ran"));
            return true;
        }

        if (_queue.PolicyOf(item.Level).RejectOnTimeout && now > item.ExpiresAt)
        {
            Finish(item, InferenceResult.Failed(StatusCode.DeadlineExceeded, "Request timeout expired"));
            return true;
        }

        if (_latency?.IsHopeless(item, now) == true)
        {
            Finish(item, InferenceResult.Failed(StatusCode.Unavailable,
                $"model '{Config.Name}' version {VersionText} could not answer within its latency target of {_latency.Milliseconds} ms; retry later"));
            return true;
        }

        return false;
    }
}
