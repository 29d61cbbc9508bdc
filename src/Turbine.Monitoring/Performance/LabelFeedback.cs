namespace Turbine.Monitoring.Performance;

/// <summary>
/// Measured accuracy from labelled feedback: the predicted class of each recent observed request id (the latest
/// <see cref="RememberedPredictions"/>), and whether each of the latest <see cref="Window"/> labels matched it.
/// </summary>
internal sealed class LabelFeedback
{
    public const int RememberedPredictions = 100_000;
    public const int Window = 1000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _predictions = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly bool[] _outcomes = new bool[Window];
    private int _next;
    private int _count;
    private int _correct;

    /// <summary>Remembers the class predicted for <paramref name="requestId"/>.</summary>
    public void Remember(string requestId, string predicted)
    {
        lock (_gate)
        {
            if (_predictions.TryAdd(requestId, predicted))
            {
                _order.Enqueue(requestId);
                if (_order.Count > RememberedPredictions)
                {
                    _predictions.Remove(_order.Dequeue());
                }
            }
        }
    }

    /// <summary>Scores the label of <paramref name="requestId"/>; false when the id's prediction is not remembered.</summary>
    public bool Record(string requestId, string label)
    {
        lock (_gate)
        {
            if (!_predictions.Remove(requestId, out var predicted))
            {
                return false;
            }

            var correct = predicted == label;
            if (_count == Window)
            {
                _correct -= _outcomes[_next] ? 1 : 0;
            }

            _outcomes[_next] = correct;
            _correct += correct ? 1 : 0;
            _next = (_next + 1) % Window;
            _count = Math.Min(_count + 1, Window);
            return true;
        }
    }

    /// <summary>The accuracy over the latest labels, and how many there were.</summary>
    public (double? Accuracy, int Labelled) Measured()
    {
        lock (_gate)
        {
            return (_count == 0 ? null : (double)_correct / _count, _count);
        }
    }
}
