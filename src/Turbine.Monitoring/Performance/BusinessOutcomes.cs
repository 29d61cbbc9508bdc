namespace Turbine.Monitoring.Performance;

/// <summary>A model's business feedback: conversions as trials and successes, values as count and mean.</summary>
public sealed class BusinessOutcomes
{
    private readonly Lock _gate = new();
    private long _trials;
    private long _conversions;
    private long _values;
    private double _valueSum;

    /// <summary>Records one feedback's outcome.</summary>
    public void Add(bool? converted, double? value)
    {
        lock (_gate)
        {
            if (converted is { } yes)
            {
                _trials++;
                _conversions += yes ? 1 : 0;
            }

            if (value is { } amount)
            {
                _values++;
                _valueSum += amount;
            }
        }
    }

    /// <summary>A consistent copy of the figures.</summary>
    public (long Trials, long Conversions, long Values, double ValueSum) Snapshot()
    {
        lock (_gate)
        {
            return (_trials, _conversions, _values, _valueSum);
        }
    }
}
