using System.Threading.Channels;
using Turbine.Llm.Cache;
using Turbine.Llm.Sampling;

namespace Turbine.Llm.Engine;

/// <summary>One request in the engine: its tokens so far, how many of them the cache holds, and where its tokens go.</summary>
internal sealed class Sequence(GenerationRequest request, long submittedAt, CancellationToken cancellation)
{
    /// <summary>When it was submitted (a timestamp of the engine's clock).</summary>
    public long SubmittedAt { get; } = submittedAt;

    /// <summary>When its last token was sent; 0 before the first.</summary>
    public long LastTokenAt { get; set; }

    /// <summary>Whether a forward pass has included it yet (queue time is recorded once) and its prompt was counted.</summary>
    public bool Started { get; set; }

    public GenerationRequest Request { get; } = request;

    public CancellationToken Cancellation { get; } = cancellation;

    /// <summary>Prompt and generated tokens.</summary>
    public List<int> Tokens { get; } = [.. request.Prompt];

    /// <summary>Leading tokens whose keys and values the cache holds.</summary>
    public int Computed { get; set; }

    /// <summary>Its cache blocks while it runs; null while it waits (first, or after a preemption).</summary>
    public BlockTable? Table { get; set; }

    public int Generated { get; set; }

    public TokenSampler Sampler { get; } = new(request.Sampling);

    public TokenHistory History { get; } = new([.. request.Prompt]);

    public Channel<GeneratedToken> Output { get; } = Channel.CreateUnbounded<GeneratedToken>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
}
