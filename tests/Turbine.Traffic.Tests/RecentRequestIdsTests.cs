using System.Globalization;
using Turbine.Traffic;

namespace Turbine.Traffic.Tests;

/// <summary>docs/TRAFFIC.md promises feedback for each of the last 100,000 request ids of a route: exactly those.</summary>
public sealed class RecentRequestIdsTests
{
    [Fact]
    public void Every_one_of_the_last_hundred_thousand_ids_is_found_with_its_arm_and_an_older_one_is_not()
    {
        var table = new RouteTable(null);
        table.Set(new RouteDefinition("r", [new RouteVariant("a", null, 50), new RouteVariant("b", null, 30), new RouteVariant("c", null, 20)]));
        Assert.True(table.TryGet("r", out var route));
        var experiment = route.Experiment;
        const int Extra = 25_000;
        for (var i = 0; i < RouteExperiment.RememberedIds + Extra; i++)
        {
            experiment.Remember(Id(i), i % 3);
        }

        var forgotten = 0;
        for (var i = Extra; i < RouteExperiment.RememberedIds + Extra; i++)
        {
            if (!experiment.TryFind(Id(i), out var arm) || arm != i % 3)
            {
                forgotten++;
            }
        }

        var stillFound = Enumerable.Range(0, Extra).Count(i => experiment.TryFind(Id(i), out _));
        Assert.Equal(100_000, RouteExperiment.RememberedIds);
        Assert.Equal(0, forgotten); // a direct-mapped table of 2^17 slots forgot about a third of them
        Assert.Equal(0, stillFound);
    }

    [Fact]
    public void A_repeated_id_takes_its_latest_arm_and_stays_until_its_latest_sighting_is_old()
    {
        var table = new RouteTable(null);
        table.Set(new RouteDefinition("r", [new RouteVariant("a", null, 50), new RouteVariant("b", null, 50)]));
        table.TryGet("r", out var route);
        var experiment = route.Experiment;
        experiment.Remember("again", 0);
        for (var i = 0; i < 10; i++)
        {
            experiment.Remember(Id(i), 0);
        }

        experiment.Remember("again", 1);
        for (var i = 10; i < RouteExperiment.RememberedIds - 5; i++)
        {
            experiment.Remember(Id(i), 0); // the first sighting of "again" leaves the ring here
        }

        Assert.True(experiment.TryFind("again", out var arm));
        Assert.Equal(1, arm);
        Assert.False(experiment.TryFind("never-sent", out _));
    }

    private static string Id(int i) => "request-" + i.ToString(CultureInfo.InvariantCulture);
}
