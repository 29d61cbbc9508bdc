using System.Collections.Concurrent;
using System.Threading.Channels;
using Turbine.Llm.Cache;

namespace Turbine.Llm.Engine;

/// <summary>
/// Continuous batching over one decoder instance, as vLLM schedules: one loop that, step after step, admits waiting
/// requests while the cache can hold them, runs one forward pass (new prompts first, else one token for every running
/// sequence), samples each row's next token and lets finished sequences leave, so requests join and leave between
/// steps. The cache is paged (<see cref="KvBlockManager"/>); shared prompt prefixes are computed
/// once. When the cache cannot take a running sequence's next token, the most recently admitted sequence is preempted
/// and recomputed later. A cancelled request is dropped between steps and its blocks freed.
/// </summary>
public sealed class GenerationEngine : IDisposable
{
    private readonly IDecoderInstance _decoder;
    private readonly EngineOptions _options;
    private readonly KvBlockManager _blocks;
    private readonly KvStorage _storage;
    private readonly ConcurrentQueue<Sequence> _submitted = new();
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly List<Sequence> _running = [];
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _loop;

    private readonly TimeProvider _time;

    /// <summary>The last decode step's rows and output, kept while the next step can take its cache as it is.</summary>
    private (Sequence[] Rows, DecoderOutput Output)? _continuation;

    public GenerationEngine(IDecoderInstance decoder, EngineOptions options, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(options);
        _decoder = decoder;
        _options = options;
        var blocks = KvBlockManager.BlocksFor(options.KvBudgetBytes, KvStorage.BytesPerToken(decoder.Spec), options.BlockTokens);
        if (blocks < 1)
        {
            throw new ArgumentException($"a KV budget of {options.KvBudgetBytes} bytes holds no block of {options.BlockTokens} tokens for this model", nameof(options));
        }

        _blocks = new KvBlockManager(blocks, options.BlockTokens);
        _storage = new KvStorage(decoder.Spec, blocks, options.BlockTokens);
        _loop = new Thread(Loop) { IsBackground = true, Name = "turbine-generation" };
        _loop.Start();
    }

    /// <summary>The cache's blocks: usage and prefix-cache figures.</summary>
    public KvBlockManager Blocks => _blocks;

    /// <summary>Latencies, token counts, finishes and occupancy, for the metrics.</summary>
    public EngineStatistics Statistics { get; } = new();

    /// <summary>Preemptions so far (sequences whose cache was given up, to be recomputed).</summary>
    public long Preemptions { get; private set; }

    /// <summary>Steps run so far.</summary>
    public long Steps { get; private set; }

    /// <summary>Steps that took the previous step's output as their cache, without gathering it.</summary>
    public long ContinuedSteps { get; private set; }

    /// <summary>
    /// Queues a request; its tokens arrive on the returned reader as they are generated, the last one with its finish
    /// reason. A request that can never fit is refused at once.
    /// </summary>
    /// <exception cref="InferenceException">The prompt and <c>max_tokens</c> exceed the context, or the prompt alone the whole cache.</exception>
    public ChannelReader<GeneratedToken> Submit(GenerationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Prompt.Count == 0 || request.MaxTokens < 1)
        {
            throw new InferenceException(InferenceError.Invalid("a request needs at least one prompt token and max_tokens of at least 1"));
        }

        if (request.Prompt.Count + request.MaxTokens > _options.MaxContext)
        {
            throw new InferenceException(InferenceError.Invalid(
                $"the prompt ({request.Prompt.Count} tokens) and max_tokens ({request.MaxTokens}) exceed the model's context of {_options.MaxContext} tokens"));
        }

        if (_blocks.BlocksFor(request.Prompt.Count + 1) > _blocks.Capacity)
        {
            throw new InferenceException(new InferenceError(StatusCode.ResourceExhausted, $"the prompt ({request.Prompt.Count} tokens) is larger than the whole KV cache"));
        }

        var sequence = new Sequence(request, _time.GetTimestamp(), cancellationToken);
        _submitted.Enqueue(sequence);
        _signal.Release();
        return sequence.Output.Reader;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stopping.Cancel();
        _signal.Release();
        _loop.Join();
        _signal.Dispose();
        _stopping.Dispose();
    }

    private void Loop()
    {
        while (!_stopping.IsCancellationRequested)
        {
            while (_submitted.TryDequeue(out var submitted))
            {
                _waiting.AddLast(submitted);
            }

            DropCancelled();
            Admit();
            Statistics.Occupancy(_running.Count, _waiting.Count);
            if (_running.Count == 0)
            {
                _signal.Wait();
                continue;
            }

            Step();
        }

        ReleaseContinuation();
        foreach (var sequence in _running.Concat(_waiting).Concat(_submitted))
        {
            sequence.Output.Writer.TryComplete(new OperationCanceledException("the engine stopped"));
        }
    }

    /// <summary>Admits waiting sequences, oldest first, while the cache can hold their tokens and the batch has room.</summary>
    private void Admit()
    {
        while (_waiting.First is { } first && _running.Count < _options.MaxBatch)
        {
            var sequence = first.Value;
            if (_blocks.Admit(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sequence.Tokens)) is not { } table)
            {
                return; // the oldest waits for blocks; later ones do not overtake it
            }

            _waiting.RemoveFirst();
            if (!sequence.Started)
            {
                sequence.Started = true;
                Statistics.Admitted(sequence.Request.Prompt.Count);
                Statistics.QueueTime.Record(Nanoseconds(sequence.SubmittedAt, _time.GetTimestamp()));
            }

            sequence.Table = table;
            sequence.Computed = table.CachedTokens == sequence.Tokens.Count ? table.CachedTokens - 1 : table.CachedTokens; // the last token is always run, for its logits
            _running.Add(sequence);
        }
    }

    /// <summary>
    /// One forward pass, then one token for each of its rows: the sequences with prompt tokens to compute when there are
    /// any (prefill first, as vLLM schedules by default), else every running sequence for one token each. Prompts and
    /// single decode tokens are not mixed in one pass: a dense batch pads every row to its longest, and a decode row
    /// padded to a prompt's length would cost that prompt's compute.
    /// </summary>
    /// <remarks>
    /// A decode step over the same rows as the one before takes that step's output as its cache, in place (the decoder
    /// continues from it): the paged cache is gathered into dense tensors only when the batch changes.
    /// </remarks>
    private void Step()
    {
        var prefilling = _running.Where(s => s.Tokens.Count - s.Computed > 1).ToArray();
        var rows = prefilling.Length > 0 ? prefilling : _running.ToArray();
        var continued = prefilling.Length == 0 && _continuation is { } last && last.Rows.AsSpan().SequenceEqual(rows) ? last.Output : null;
        if (continued is null)
        {
            ReleaseContinuation();
        }

        var spec = _decoder.Spec;
        var length = 0;
        var past = 0;
        foreach (var sequence in rows)
        {
            length = Math.Max(length, sequence.Tokens.Count - sequence.Computed);
            past = Math.Max(past, sequence.Computed);
        }

        var total = past + length;
        var ids = new long[rows.Length * length];
        var positions = new long[rows.Length * length];
        var mask = new long[rows.Length * total];
        var pastValues = new float[spec.Layers * 2][];
        for (var i = 0; i < pastValues.Length; i++)
        {
            pastValues[i] = continued is null ? new float[(long)rows.Length * spec.PositionWidth * past] : [];
        }

        for (var row = 0; row < rows.Length; row++)
        {
            var sequence = rows[row];
            var fresh = sequence.Tokens.Count - sequence.Computed;
            mask.AsSpan((row * total) + past - sequence.Computed, sequence.Computed).Fill(1);
            mask.AsSpan((row * total) + total - fresh, fresh).Fill(1);
            for (var i = 0; i < fresh; i++)
            {
                ids[(row * length) + length - fresh + i] = sequence.Tokens[sequence.Computed + i];
                positions[(row * length) + length - fresh + i] = sequence.Computed + i;
            }

            if (continued is null)
            {
                _storage.Gather(sequence.Table!, sequence.Computed, pastValues, row, past);
            }
        }

        var step = new DecoderStep { Batch = rows.Length, Sequence = length, Past = past, InputIds = ids, AttentionMask = mask, PositionIds = positions, PastKeyValues = pastValues, PastFrom = continued };
        var running = _time.GetTimestamp();
        var error = _decoder.Run(step, out var output);
        Statistics.Busy(Nanoseconds(running, _time.GetTimestamp()));
        ReleaseContinuation(); // the step has read it
        Steps++;
        ContinuedSteps += continued is null ? 0 : 1;
        if (error is not null)
        {
            output?.Dispose();
            foreach (var sequence in rows)
            {
                Finish(sequence, new InferenceException(error));
            }

            return;
        }

        try
        {
            Advance(rows, output!, total);
        }
        catch
        {
            output!.Dispose();
            throw;
        }

        // Kept for the next step when it will be a decode step over the same rows; otherwise released now.
        if (prefilling.Length == 0 && _decoder.ContinuesFromOutput && rows.All(s => s.Table is not null && _running.Contains(s)))
        {
            _continuation = (rows, output!);
        }
        else
        {
            output!.Dispose();
        }
    }

    private void ReleaseContinuation()
    {
        _continuation?.Output.Dispose();
        _continuation = null;
    }

    /// <summary>Takes each row's new positions into its cache blocks and draws its next token.</summary>
    private void Advance(Sequence[] rows, DecoderOutput output, int total)
    {
        for (var row = 0; row < rows.Length; row++)
        {
            var sequence = rows[row];
            if (sequence.Table is null)
            {
                continue; // preempted by an earlier row of this step: it is recomputed when admitted again
            }

            var fresh = sequence.Tokens.Count - sequence.Computed;
            _storage.Scatter(sequence.Table!, sequence.Computed, fresh, output, row, total);
            sequence.Computed += fresh;
            _blocks.Computed(sequence.Table!);
            Advance(sequence, output.Logits(row));
        }
    }

    /// <summary>Samples a sequence's next token, emits it, and ends the sequence or makes room for the token in the cache.</summary>
    private void Advance(Sequence sequence, ReadOnlySpan<float> logits)
    {
        var constraint = sequence.Request.Constraint;
        var sampled = sequence.Sampler.Sample(logits, sequence.History, constraint);
        constraint?.Accept(sampled.Token);
        sequence.History.Add(sampled.Token);
        sequence.Generated++;
        var now = _time.GetTimestamp();
        (sequence.LastTokenAt == 0 ? Statistics.TimeToFirstToken : Statistics.InterTokenLatency).Record(Nanoseconds(sequence.LastTokenAt == 0 ? sequence.SubmittedAt : sequence.LastTokenAt, now));
        sequence.LastTokenAt = now;
        Statistics.Generated();
        FinishReason? finish = sequence.Request.StopTokens.Contains(sampled.Token) ? FinishReason.Stop
            : sequence.Generated >= sequence.Request.MaxTokens || sequence.Tokens.Count + 1 >= _options.MaxContext ? FinishReason.Length
            : null;
        sequence.Output.Writer.TryWrite(new GeneratedToken(sampled.Token, sampled, finish));
        if (finish is not null)
        {
            Statistics.EndToEnd.Record(Nanoseconds(sequence.SubmittedAt, now));
            Statistics.Finished(finish);
            Finish(sequence, null);
            return;
        }

        sequence.Tokens.Add(sampled.Token);
        while (!_blocks.TryAppend(sequence.Table!, sampled.Token))
        {
            // No block for the next token: the most recently admitted sequence gives its cache up and is recomputed later.
            var victim = _running[^1];
            Preempt(victim);
            if (victim == sequence)
            {
                return;
            }
        }
    }

    private void Preempt(Sequence sequence)
    {
        _running.Remove(sequence);
        _blocks.Release(sequence.Table!);
        sequence.Table = null;
        sequence.Computed = 0;
        _waiting.AddFirst(sequence);
        Preemptions++;
    }

    private void DropCancelled()
    {
        foreach (var sequence in _running.Where(s => s.Cancellation.IsCancellationRequested).ToList())
        {
            Statistics.Finished(null);
            Finish(sequence, new OperationCanceledException(sequence.Cancellation));
        }

        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value.Cancellation.IsCancellationRequested)
            {
                Statistics.Finished(null);
                _waiting.Remove(node);
                node.Value.Output.Writer.TryComplete(new OperationCanceledException(node.Value.Cancellation));
            }

            node = next;
        }
    }

    private long Nanoseconds(long from, long to) => (long)_time.GetElapsedTime(from, to).TotalNanoseconds;

    private void Finish(Sequence sequence, Exception? error)
    {
        _running.Remove(sequence);
        if (sequence.Table is { } table)
        {
            _blocks.Release(table);
            sequence.Table = null;
        }

        sequence.Output.Writer.TryComplete(error);
    }
}
