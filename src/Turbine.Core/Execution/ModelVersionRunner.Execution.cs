using Turbine.Core.Execution.Scheduling;
using Turbine.Core.Observation;

namespace Turbine.Core.Execution;

/// <summary>Running one batch on an instance, recording what it cost, and answering its requests.</summary>
internal sealed partial class ModelVersionRunner
{
    private void Execute(IModelInstance instance, List<WorkItem> batch, long rows, List<Tensor> results)
    {
        var startedAt = TurbineTracing.IsEnabled ? _time.GetUtcNow() : default;
        var started = _time.GetTimestamp();
        foreach (var item in batch)
        {
            Statistics.Queue.Record(Nanoseconds(item.EnqueuedAt, started));
        }

        // A batch of one runs on the request's own buffers; a larger one on one contiguous copy of all its rows.
        var inputs = batch.Count == 1 ? batch[0].Validated.Inputs : BatchAssembler.Concatenate(batch, rows);
        var assembled = _time.GetTimestamp();
        results.Clear();
        InferenceError? error;
        try
        {
            error = InstanceWorker.RunSafely(instance, inputs, batch[0].Validated.Outputs, results);
        }
        finally
        {
            if (batch.Count > 1)
            {
                DisposeAll(inputs);
            }
        }

        var ran = _time.GetTimestamp();
        if (startedAt != default)
        {
            RecordSpans(batch, rows, startedAt, startedAt + _time.GetElapsedTime(started, ran), error);
        }

        if (error is not null)
        {
            LogExecutionFailed(batch, error);
        }

        var perRequest = new List<Tensor>[batch.Count];
        for (var k = 0; k < perRequest.Length; k++)
        {
            perRequest[k] = [];
        }

        if (error is null && batch.Count == 1)
        {
            perRequest[0].AddRange(results);
            results.Clear();
        }
        else if (error is null)
        {
            error = BatchAssembler.Split(results, batch, rows, perRequest);
            DisposeAll(results);
        }

        if (error is not null)
        {
            DisposeAll(results);
            foreach (var tensors in perRequest)
            {
                DisposeAll(tensors);
            }

            foreach (var item in batch)
            {
                Finish(item, InferenceResult.Failed(error));
            }

            return;
        }

        var finished = _time.GetTimestamp();
        _latency?.Costs.Record(rows, finished - started);
        RecordCost(finished - started);
        var compute = Nanoseconds(started, finished);
        Statistics.RecordExecution(rows, Nanoseconds(started, assembled), Nanoseconds(assembled, ran), Nanoseconds(ran, finished), _time.GetUtcNow().ToUnixTimeMilliseconds());
        for (var k = 0; k < batch.Count; k++)
        {
            var item = batch[k];
            var response = new InferenceResponse
            {
                ModelName = Config.Name, ModelVersion = VersionText, Id = item.Request.Id, ComputeNanoseconds = compute * item.Validated.BatchSize / Math.Max(rows, 1),
            };
            response.Outputs.AddRange(perRequest[k]);
            response.OutputBinary.AddRange(item.Validated.OutputBinary);
            Finish(item, new InferenceResult(response, null));
        }
    }

    /// <summary>Each traced request of the batch gets its wait (<c>turbine.queue</c>) and the batch's run (<c>turbine.execute</c>) as spans of its own trace.</summary>
    private void RecordSpans(List<WorkItem> batch, long rows, DateTimeOffset started, DateTimeOffset ran, InferenceError? error)
    {
        foreach (var item in batch)
        {
            if (!item.Trace.IsTraced)
            {
                continue;
            }

            TurbineTracing.Record("turbine.queue", item.Trace.Parent, item.Trace.QueuedAt, started, [new("turbine.model", Config.Name), new("turbine.version", VersionText)]);
            TurbineTracing.Record("turbine.execute", item.Trace.Parent, started, ran,
                [new("turbine.model", Config.Name), new("turbine.version", VersionText), new("turbine.batch_rows", rows), new("turbine.batch_requests", batch.Count),
                 new("error.type", error?.Code.ToString())]);
        }
    }

    /// <summary>Logs a failed execution once per request, with the runtime's own words, which clients never see.</summary>
    private void LogExecutionFailed(List<WorkItem> batch, InferenceError error)
    {
        foreach (var item in batch)
        {
            LogModelFailed(_logger, Config.Name, VersionText, item.Request.Id ?? string.Empty, batch.Count, error.Detail ?? error.Message);
        }
    }

    /// <summary>
    /// A moving average of what executions cost lately, for the inline decision; undecided (too expensive) until a
    /// few executions were seen. Races between instances lose an update at worst, which an average forgives.
    /// </summary>
    private void RecordCost(long ticks)
    {
        const int Warmup = 4;
        var executions = Interlocked.Increment(ref _executions);
        if (executions <= Warmup)
        {
            Volatile.Write(ref _recentCostTicks, executions == Warmup ? ticks : long.MaxValue);
            return;
        }

        var recent = Volatile.Read(ref _recentCostTicks);
        Volatile.Write(ref _recentCostTicks, recent + ((ticks - recent) / 8));
    }

    /// <summary>Records the request's outcome and answers it, in order when ordering is preserved.</summary>
    private void Finish(WorkItem item, InferenceResult result)
    {
        item.IsAnswered = true;
        if (item.Lane == RequestLane.Background)
        {
            _queue.ReleaseBackground(item.Validated.BatchSize);
        }

        var total = Nanoseconds(item.EnqueuedAt, _time.GetTimestamp());
        (result.Error is null ? Statistics.Success : Statistics.Fail).Record(total);
        if (_sequencer is null)
        {
            Deliver(item, result);
        }
        else
        {
            _sequencer.Release(item, result, Deliver);
        }
    }

    private static void Deliver(WorkItem item, InferenceResult result)
    {
        if (!item.Completion.TrySetResult(result))
        {
            result.Response?.Dispose();
        }
    }

    private long Nanoseconds(long from, long to) => (long)_time.GetElapsedTime(from, to).TotalNanoseconds;

    private static void DisposeAll(IEnumerable<Tensor> tensors)
    {
        foreach (var tensor in tensors)
        {
            tensor.Dispose();
        }

        (tensors as List<Tensor>)?.Clear();
    }
}
