using Turbine.Core.Execution.Scheduling;

namespace Turbine.Core.Execution.Sequences;

/// <summary>The worker loop of each instance: forming sequence batches by strategy, running them, answering their rows.</summary>
internal sealed partial class SequenceBatchRunner
{
    private void WorkerLoop(int instance)
    {
        var rows = new List<SequenceRow?>();
        var results = new List<Tensor>();
        var outputs = Config.ModelOutputs;
        while (true)
        {
            lock (_gate)
            {
                while (!TryTakeBatch(instance, rows))
                {
                    if (_closed)
                    {
                        return; // nothing is ready for this instance and nothing new comes
                    }

                    Monitor.Wait(_gate);
                }
            }

            RunBatch(_instances[instance], rows, outputs, results);
        }
    }

    /// <summary>Takes the next batch for <paramref name="instance"/> into <paramref name="rows"/>, or arms the wake-up for when one may be due. Under the lock.</summary>
    private bool TryTakeBatch(int instance, List<SequenceRow?> rows)
    {
        rows.Clear();
        var now = _time.GetTimestamp();
        SweepIfDue(now);
        var taken = _sequences.Strategy == SequenceStrategy.Direct ? TakeDirect(_slots[instance], rows, now) : TakeOldest(rows, now);
        if (!taken && _live.Count > 0)
        {
            WakeAt(_nextSweep); // an idle sequence may expire and free its slot for the backlog
        }

        return taken;
    }

    /// <summary>
    /// Direct: one row per slot of the instance, up to the last slot with a request; the slots between without one run
    /// as idle rows (READY false). Waits up to the queue delay while fewer slots than the minimum utilization have work.
    /// </summary>
    private bool TakeDirect(LiveSequence?[] slots, List<SequenceRow?> rows, long now)
    {
        var last = -1;
        var ready = 0;
        var oldest = long.MaxValue;
        for (var slot = 0; slot < slots.Length; slot++)
        {
            if (slots[slot] is { IsReady: true } sequence)
            {
                (last, ready, oldest) = (slot, ready + 1, Math.Min(oldest, sequence.Pending.Peek().EnqueuedAt));
            }
        }

        if (last < 0 || ShouldWait(ready < Math.Ceiling(_sequences.MinimumSlotUtilization * slots.Length), oldest, now))
        {
            return false;
        }

        ValidatedRequest? template = null;
        for (var slot = 0; slot <= last; slot++)
        {
            if (slots[slot] is { IsReady: true } sequence && (template is null || SequenceBatchAssembler.CanJoin(template, sequence.Pending.Peek().Validated)))
            {
                var row = Take(sequence);
                template ??= row.Work.Validated;
                rows.Add(row);
            }
            else
            {
                rows.Add(null);
            }
        }

        while (rows[^1] is null)
        {
            rows.RemoveAt(rows.Count - 1); // a last request of another shape waits for the next batch
        }

        return true;
    }

    /// <summary>Oldest: the sequences whose next requests have waited longest, one row each, up to max_batch_size.</summary>
    private bool TakeOldest(List<SequenceRow?> rows, long now)
    {
        var ready = _live.Values.Where(sequence => sequence.IsReady).OrderBy(sequence => sequence.Pending.Peek().EnqueuedAt).Take(_maxRows).ToList();
        if (ready.Count == 0)
        {
            return false;
        }

        var target = _sequences.PreferredBatchSizes.Count > 0 ? _sequences.PreferredBatchSizes.Max() : _maxRows;
        if (ShouldWait(ready.Count < target, ready[0].Pending.Peek().EnqueuedAt, now))
        {
            return false;
        }

        var template = ready[0].Pending.Peek().Validated;
        foreach (var sequence in ready)
        {
            if (SequenceBatchAssembler.CanJoin(template, sequence.Pending.Peek().Validated))
            {
                rows.Add(Take(sequence));
            }
        }

        return true;
    }

    /// <summary>Whether a batch that is still <paramref name="short"/> waits for company: until the queue delay after its oldest request.</summary>
    private bool ShouldWait(bool @short, long oldest, long now)
    {
        if (!@short || _closed || _delayTicks == 0 || now >= oldest + _delayTicks)
        {
            return false;
        }

        WakeAt(oldest + _delayTicks);
        return true;
    }

    private SequenceRow Take(LiveSequence sequence)
    {
        var work = sequence.Pending.Dequeue();
        sequence.IsRunning = true;
        _queued--;
        _executing++;
        return new SequenceRow(sequence, work);
    }

    /// <summary>Arms the one timer that wakes the workers, unless it already fires sooner. Under the lock.</summary>
    private void WakeAt(long timestamp)
    {
        if (timestamp >= _wakeAt)
        {
            return;
        }

        _wakeAt = timestamp;
        var due = _time.GetElapsedTime(_time.GetTimestamp(), timestamp);
        _wakeTimer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void OnWakeTimer()
    {
        lock (_gate)
        {
            _wakeAt = long.MaxValue;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Runs one batch and answers its rows; whatever fails, every row is answered and its sequence may go on.</summary>
    private void RunBatch(IModelInstance instance, List<SequenceRow?> rows, IReadOnlyList<TensorConfig> outputs, List<Tensor> results)
    {
        var answers = new InferenceResult[rows.Count];
        try
        {
            Execute(instance, rows, outputs, results, answers);
        }
#pragma warning disable CA1031 // whatever failed, the callers of this batch are answered and the worker goes on
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogModelFailed(_logger, Config.Name, VersionText, rows.Count, e.Message);
            Array.Fill(answers, InferenceResult.Failed(StatusCode.Internal, $"model '{Config.Name}' version {VersionText} failed to run the request"));
        }

        var finished = _time.GetTimestamp();
        lock (_gate)
        {
            foreach (var row in rows)
            {
                if (row is not { } taken)
                {
                    continue;
                }

                var sequence = taken.Sequence;
                (sequence.IsRunning, sequence.IdleSince) = (false, finished);
                _executing--;
                if (taken.Work.Step.End && sequence.Pending.Count == 0)
                {
                    Release(sequence);
                }
            }

            Monitor.PulseAll(_gate); // under oldest, another instance may take these sequences' next requests now
        }

        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r] is { } taken)
            {
                Answer(taken.Work, answers[r], answers[r].Error is null);
            }
        }
    }

    private void Execute(IModelInstance instance, List<SequenceRow?> rows, IReadOnlyList<TensorConfig> outputs, List<Tensor> results, InferenceResult[] answers)
    {
        var started = _time.GetTimestamp();
        var real = 0;
        foreach (var row in rows)
        {
            if (row is { } taken)
            {
                real++;
                Statistics.Queue.Record(Nanoseconds(taken.Work.EnqueuedAt, started));
            }
        }

        var inputs = SequenceBatchAssembler.Inputs(Config, rows);
        var assembled = _time.GetTimestamp();
        InferenceError? error;
        results.Clear();
        try
        {
            error = InstanceWorker.RunSafely(instance, inputs, outputs, results);
        }
        finally
        {
            foreach (var input in inputs)
            {
                input.Dispose();
            }
        }

        var ran = _time.GetTimestamp();
        var perRow = new List<Tensor>[rows.Count];
        for (var r = 0; r < perRow.Length; r++)
        {
            perRow[r] = [];
        }

        error ??= SequenceBatchAssembler.Split(Config, results, rows, perRow);
        foreach (var result in results)
        {
            result.Dispose();
        }

        results.Clear();
        if (error is not null)
        {
            LogModelFailed(_logger, Config.Name, VersionText, real, error.Detail ?? error.Message);
            foreach (var tensor in perRow.SelectMany(tensors => tensors))
            {
                tensor.Dispose();
            }

            Array.Fill(answers, InferenceResult.Failed(error));
            return;
        }

        var finished = _time.GetTimestamp();
        Statistics.RecordExecution(real, Nanoseconds(started, assembled), Nanoseconds(assembled, ran), Nanoseconds(ran, finished), _time.GetUtcNow().ToUnixTimeMilliseconds());
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r] is { } taken)
            {
                var response = new InferenceResponse
                {
                    ModelName = Config.Name, ModelVersion = VersionText, Id = taken.Work.Request.Id, ComputeNanoseconds = Nanoseconds(started, finished) / Math.Max(real, 1),
                };
                response.Outputs.AddRange(perRow[r]);
                response.OutputBinary.AddRange(taken.Work.Validated.OutputBinary);
                answers[r] = new InferenceResult(response, null);
            }
        }
    }

    private void Answer(SequenceWork work, InferenceResult result, bool success)
    {
        (success ? Statistics.Success : Statistics.Fail).Record(Nanoseconds(work.EnqueuedAt, _time.GetTimestamp()));
        if (!work.Completion.TrySetResult(result))
        {
            result.Response?.Dispose();
        }
    }

    private long Nanoseconds(long from, long to) => (long)_time.GetElapsedTime(from, to).TotalNanoseconds;
}
