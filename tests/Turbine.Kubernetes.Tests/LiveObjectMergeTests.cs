using System.Text.Json.Nodes;
using Turbine.Kubernetes.Reconciliation;

namespace Turbine.Kubernetes.Tests;

public sealed class LiveObjectMergeTests
{
    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void A_live_object_with_defaults_and_others_fields_satisfies_what_was_asked()
    {
        var desired = Parse("""{"spec":{"image":"a","ports":[{"port":80}]}}""");
        var live = Parse("""{"spec":{"image":"a","pullPolicy":"IfNotPresent","ports":[{"port":80,"protocol":"TCP"}],"replicas":4},"status":{}}""");

        Assert.True(LiveObjectMerge.IsSatisfied(desired, live));
    }

    [Theory]
    [InlineData("""{"spec":{"image":"b","ports":[{"port":80}]}}""")] // a changed value
    [InlineData("""{"spec":{"image":"a","ports":[{"port":80},{"port":81}]}}""")] // an extra element
    [InlineData("""{"spec":{"ports":[{"port":80}]}}""")] // a missing field
    [InlineData("""{"spec":{"image":"a","ports":[{"port":80}],"runtimeClassName":"nvidia"}}""")] // a field that should be absent
    public void Drift_in_an_owned_field_is_seen(string liveJson)
    {
        var desired = Parse("""{"spec":{"image":"a","ports":[{"port":80}],"runtimeClassName":null}}""");

        Assert.False(LiveObjectMerge.IsSatisfied(desired, Parse(liveJson)));
    }

    [Fact]
    public void A_merge_writes_the_owned_fields_replaces_arrays_removes_nulls_and_keeps_the_rest()
    {
        var desired = Parse("""{"metadata":{"labels":{"a":"1"}},"spec":{"image":"b","ports":[{"port":81}],"runtimeClassName":null}}""");
        var live = Parse("""{"metadata":{"labels":{"a":"0","team":"risk"},"resourceVersion":"7"},"spec":{"image":"a","ports":[{"port":80,"protocol":"TCP"}],"runtimeClassName":"nvidia","replicas":4}}""");

        var merged = LiveObjectMerge.Merge(desired, live);

        Assert.Equal("""{"metadata":{"labels":{"a":"1","team":"risk"},"resourceVersion":"7"},"spec":{"image":"b","ports":[{"port":81}],"replicas":4}}""", merged.ToJsonString());
        Assert.True(LiveObjectMerge.IsSatisfied(desired, merged));
        Assert.Equal("a", (string?)live["spec"]!["image"]); // the live object is left as it was
    }
}
