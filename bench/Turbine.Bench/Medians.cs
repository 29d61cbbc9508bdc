namespace Turbine.Bench;

/// <summary>The median of the windows of a scenario: noisy machines make means lie.</summary>
internal static class Medians
{
    public static double Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }
}
