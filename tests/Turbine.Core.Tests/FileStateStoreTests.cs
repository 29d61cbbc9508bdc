using Turbine.Core.State;
using Turbine.Tests;

namespace Turbine.Core.Tests;

/// <summary>The state directory: documents and logs on disk, names checked before they touch it, leftovers of killed writes removed.</summary>
public sealed class FileStateStoreTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    private string Folder => Path.Combine(_files.Root, "state");

    [Fact]
    public void Documents_are_put_found_listed_and_deleted_per_kind()
    {
        var store = new FileStateStore(Folder);
        store.Put(StateKinds.Routes, "checkout", "{\"a\":1}"u8);
        store.Put(StateKinds.Experiments + "checkout", store.Replica, "{\"b\":2}"u8);

        Assert.Equal("{\"a\":1}"u8.ToArray(), store.Find(StateKinds.Routes, "checkout"));
        Assert.Null(store.Find(StateKinds.Routes, "other"));
        Assert.Equal(["checkout"], store.List(StateKinds.Routes).Select(d => d.Name));
        Assert.True(File.Exists(Path.Combine(Folder, "experiments", "checkout", "local.json")));

        store.DeleteAll(StateKinds.Experiments + "checkout");
        store.Delete(StateKinds.Routes, "checkout");
        store.Delete(StateKinds.Routes, "never-there");
        Assert.Empty(store.List(StateKinds.Routes));
        Assert.Empty(store.List(StateKinds.Experiments + "checkout"));
    }

    [Fact]
    public void A_log_is_read_after_a_position_and_its_end_moves_with_each_record()
    {
        var store = new FileStateStore(Folder);
        Assert.Equal(0, store.LogEnd(StateKinds.CanaryAudit + "r"));
        store.Append(StateKinds.CanaryAudit + "r", "{\"n\":1}"u8);
        store.Append(StateKinds.CanaryAudit + "r", "{\"n\":2}"u8);
        store.Append(StateKinds.CanaryAudit + "r", "{\"n\":3}"u8);

        Assert.Equal(3, store.LogEnd(StateKinds.CanaryAudit + "r"));
        var tail = store.ReadLog(StateKinds.CanaryAudit + "r", after: 1, max: 1);
        Assert.Equal((2L, "{\"n\":2}"), (tail.Single().Position, System.Text.Encoding.UTF8.GetString(tail.Single().Body)));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(Folder, "canary-audit", "r.jsonl")).Length);
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/../b")]
    [InlineData("/etc/passwd")]
    [InlineData("..\\..\\x")]
    [InlineData("C:\\x")]
    [InlineData("%2e%2e%2f")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("a\0b")]
    public void Names_and_kinds_that_could_leave_the_folder_are_refused_before_touching_the_disk(string name)
    {
        var store = new FileStateStore(Folder);
        var canary = Path.Combine(_files.Root, "canary.txt");
        File.WriteAllText(canary, "canary");

        Assert.Throws<ArgumentException>(() => store.Put(StateKinds.Routes, name, "{}"u8));
        Assert.Throws<ArgumentException>(() => store.Find(StateKinds.Routes, name));
        Assert.Throws<ArgumentException>(() => store.Delete(StateKinds.Routes, name));
        Assert.Throws<ArgumentException>(() => store.List(StateKinds.Experiments + name));
        Assert.Throws<ArgumentException>(() => store.Append(StateKinds.Feedback + name, "{}"u8));

        Assert.Equal("canary", File.ReadAllText(canary));
        Assert.False(Directory.Exists(Folder) && Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void Valid_names_with_dots_are_accepted()
    {
        var store = new FileStateStore(Folder);
        store.Put(StateKinds.Routes, "my.route", "{}"u8);
        store.Put(StateKinds.Routes, "route..1", "{}"u8);
        Assert.Equal(["my.route", "route..1"], store.List(StateKinds.Routes).Select(d => d.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Writes_a_killed_process_left_half_done_are_deleted_at_start_and_the_old_documents_stay()
    {
        var store = new FileStateStore(Folder);
        store.Put(StateKinds.VersionRouting, "m", "{\"default_version\":1}"u8);
        File.WriteAllText(Path.Combine(Folder, "versions", "m.json.tmp"), "{\"default_vers");

        var restarted = new FileStateStore(Folder);

        Assert.Empty(Directory.GetFiles(Folder, "*.tmp", SearchOption.AllDirectories));
        Assert.Equal("{\"default_version\":1}"u8.ToArray(), restarted.Find(StateKinds.VersionRouting, "m"));
    }

    [Fact]
    public void A_folder_that_cannot_be_written_is_a_state_store_exception()
    {
        var store = new FileStateStore(Folder);
        Directory.CreateDirectory(Path.Combine(Folder, "routes", "r.json")); // a directory where the document should go

        Assert.Throws<StateStoreException>(() => store.Put(StateKinds.Routes, "r", "{}"u8));
    }
}
