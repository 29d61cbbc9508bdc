using System.Collections.Concurrent;
using System.IO.MemoryMappedFiles;

namespace Turbine.Server.SharedMemory;

/// <summary>
/// Triton's system shared-memory extension: clients on the same machine register POSIX shared-memory objects
/// (<c>shm_open</c>'s <c>/name</c>, a file under <c>/dev/shm</c> on Linux) as named regions, then place inputs and
/// outputs in them instead of sending the bytes through the socket. A key is a slash and a plain name, nothing
/// else, so no other file can be mapped; every read and write is checked against the region's registered size.
/// </summary>
internal sealed class SystemSharedMemory(string folder = SystemSharedMemory.PosixFolder) : ISharedMemory, IDisposable
{
    /// <summary>Where Linux keeps POSIX shared-memory objects.</summary>
    public const string PosixFolder = "/dev/shm";

    private readonly ConcurrentDictionary<string, Region> _regions = new(StringComparer.Ordinal);

    /// <summary>A registered region, as the status endpoints report it.</summary>
    public sealed record RegionStatus(string Name, string Key, long Offset, long ByteSize);

    public IReadOnlyList<RegionStatus> Status(string? name) =>
        [.. _regions.Values.Where(r => name is null || r.Name == name).OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => new RegionStatus(r.Name, r.Key, r.Offset, r.ByteSize))];

    public InferenceError? Register(string name, string key, long offset, long byteSize)
    {
        if (!Core.Repository.ModelNames.IsValid(name))
        {
            return InferenceError.Invalid($"'{ClientText.Quote(name)}' is not a valid shared memory region name");
        }

        if (key.Length < 2 || key[0] != '/' || !Core.Repository.ModelNames.IsValid(key.AsSpan(1)))
        {
            return InferenceError.Invalid($"shared memory key '{ClientText.Quote(key)}' must be '/' and a plain name, as shm_open takes it");
        }

        if (offset < 0 || byteSize <= 0)
        {
            return InferenceError.Invalid("a shared memory region needs an offset of 0 or more and a byte_size above 0");
        }

        if (_regions.ContainsKey(name))
        {
            return InferenceError.Invalid($"shared memory region '{name}' already in manager");
        }

        var path = Path.Combine(folder, key[1..]);
        var file = new FileInfo(path);
        if (!file.Exists || file.LinkTarget is not null)
        {
            return InferenceError.Invalid($"Unable to open shared memory region: '{key}'");
        }

        if (offset + byteSize > file.Length)
        {
            return InferenceError.Invalid($"shared memory region '{name}': offset {offset} + byte_size {byteSize} is past the end of '{key}' ({file.Length} bytes)");
        }

        MemoryMappedFile? map = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.ReadWrite);
            var view = map.CreateViewAccessor(offset, byteSize, MemoryMappedFileAccess.ReadWrite);
            var region = new Region(name, key, offset, byteSize, map, view);
            if (!_regions.TryAdd(name, region))
            {
                region.Dispose();
                return InferenceError.Invalid($"shared memory region '{name}' already in manager");
            }

            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            map?.Dispose();
            return InferenceError.Invalid($"Unable to open shared memory region: '{key}'");
        }
    }

    /// <summary>Unregisters one region, or every region (<paramref name="name"/> null); a name not registered changes nothing, as in Triton.</summary>
    public void Unregister(string? name)
    {
        foreach (var region in _regions.Values.Where(r => name is null || r.Name == name).ToList())
        {
            if (_regions.TryRemove(region.Name, out var removed))
            {
                removed.Dispose();
            }
        }
    }

    public InferenceError? Read(SharedMemoryRef place, out TensorBuffer? data)
    {
        data = null;
        if (Find(place, out var region) is { } error)
        {
            return error;
        }

        var buffer = TensorBuffer.Rent((int)place.ByteSize);
        lock (region!)
        {
            if (region.IsDisposed)
            {
                buffer.Dispose();
                return Missing(place.Region);
            }

            region.View.SafeMemoryMappedViewHandle.ReadSpan(region.Position(place.Offset), buffer.Span);
        }

        data = buffer;
        return null;
    }

    public InferenceError? Write(SharedMemoryRef place, ReadOnlySpan<byte> data)
    {
        if (Find(place with { ByteSize = data.Length }, out var region) is { } error)
        {
            return error;
        }

        lock (region!)
        {
            if (region.IsDisposed)
            {
                return Missing(place.Region);
            }

            region.View.SafeMemoryMappedViewHandle.WriteSpan(region.Position(place.Offset), data);
        }

        return null;
    }

    public void Dispose() => Unregister(null);

    private InferenceError? Find(SharedMemoryRef place, out Region? region)
    {
        if (!_regions.TryGetValue(place.Region, out region))
        {
            return Missing(place.Region);
        }

        return place.Offset < 0 || place.ByteSize < 0 || place.ByteSize > int.MaxValue || place.Offset + place.ByteSize > region.ByteSize
            ? InferenceError.Invalid($"Invalid offset + byte size for shared memory region: '{ClientText.Quote(place.Region)}'")
            : null;
    }

    private static InferenceError Missing(string region) =>
        InferenceError.Invalid($"Unable to find shared memory region: '{ClientText.Quote(region)}'");

    private sealed class Region(string name, string key, long offset, long byteSize, MemoryMappedFile map, MemoryMappedViewAccessor view) : IDisposable
    {
        public string Name { get; } = name;

        public string Key { get; } = key;

        public long Offset { get; } = offset;

        public long ByteSize { get; } = byteSize;

        public MemoryMappedViewAccessor View { get; } = view;

        public bool IsDisposed { get; private set; }

        /// <summary>Where <paramref name="offset"/> into the region lies in the view's handle, which starts at a page boundary.</summary>
        public ulong Position(long offset) => (ulong)(View.PointerOffset + offset);

        public void Dispose()
        {
            lock (this)
            {
                IsDisposed = true;
                View.Dispose();
                map.Dispose();
            }
        }
    }
}
