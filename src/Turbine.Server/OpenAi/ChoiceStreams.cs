using System.Threading.Channels;
using Turbine.Llm.Engine;
using Turbine.Llm.Serving;

namespace Turbine.Server.OpenAi;

/// <summary>One step of one choice: a piece of its text, or the error that ended it.</summary>
/// <param name="Index">The choice's index in the answer.</param>
/// <param name="Delta">The text piece (the last one carries the finish reason), or null with <paramref name="Error"/>.</param>
/// <param name="Error">Why the choice failed.</param>
internal readonly record struct ChoiceEvent(int Index, TextDelta? Delta, InferenceError? Error);

/// <summary>What one choice generates from.</summary>
/// <param name="Prompt">The prompt's tokens.</param>
/// <param name="Options">Its limits, stops and sampling.</param>
internal sealed record ChoicePlan(IReadOnlyList<int> Prompt, TextOptions Options);

/// <summary>
/// Runs the choices of one request side by side in the engine (they join its batch like any other sequences, and share
/// the prompt's cache blocks) and merges their text into one stream of events in the order it is made. Cancelling
/// (the client left, or one choice failed) ends every choice between engine steps, freeing their cache.
/// </summary>
internal sealed class ChoiceStreams : IAsyncDisposable
{
    private readonly Channel<ChoiceEvent> _events = Channel.CreateUnbounded<ChoiceEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop;
    private readonly Task _all;

    public ChoiceStreams(GenerativeModel model, IReadOnlyList<ChoicePlan> plans, CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _all = RunAllAsync(model, plans);
    }

    /// <summary>The events of every choice, until all have finished.</summary>
    public IAsyncEnumerable<ChoiceEvent> ReadAllAsync() => _events.Reader.ReadAllAsync(CancellationToken.None);

    /// <summary>Ends every choice still running.</summary>
    public Task CancelAsync() => _stop.CancelAsync();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _all;
        _stop.Dispose();
    }

    private async Task RunAllAsync(GenerativeModel model, IReadOnlyList<ChoicePlan> plans)
    {
        await Task.WhenAll(plans.Select((plan, index) => RunAsync(model, index, plan)));
        _events.Writer.TryComplete();
    }

    private async Task RunAsync(GenerativeModel model, int index, ChoicePlan plan)
    {
        await Task.Yield(); // every choice submits from its own continuation, none waits for another's first token
        try
        {
            await foreach (var delta in model.Text.StreamAsync(plan.Prompt, plan.Options, _stop.Token))
            {
                _events.Writer.TryWrite(new ChoiceEvent(index, delta, null));
            }
        }
        catch (InferenceException e)
        {
            _events.Writer.TryWrite(new ChoiceEvent(index, null, e.Error));
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The client left or another choice failed: nothing more to say for this one.
        }
        catch (OperationCanceledException)
        {
            _events.Writer.TryWrite(new ChoiceEvent(index, null, InferenceError.Unavailable("the generation engine stopped (the model is being unloaded)")));
        }
    }
}
