using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Formats;

/// <summary>
/// Plans and reads line-oriented inputs (JSON lines, KServe v2 request lines): a row is a line that is not blank, and
/// a partition is a byte range of whole lines, found by one scan for line breaks that never holds a line in memory.
/// </summary>
internal static class LinePlanner
{
    /// <summary>Lines handed to <c>sample</c> while planning (to find the columns).</summary>
    public const int SampleLines = 1000;

    /// <summary>Cuts the input into partitions of <paramref name="partitionRows"/> rows; the first lines go to <paramref name="sample"/>.</summary>
    public static async Task<IReadOnlyList<PartitionSpan>> PlanAsync(IJobStorage storage, string uri, int partitionRows, Action<string> sample, CancellationToken cancellationToken)
    {
        var partitions = new List<PartitionSpan>();
        await using var stream = await storage.OpenReadAsync(uri, 0, -1, cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        var line = new ArrayBufferWriter<byte>();
        try
        {
            long position = 0, lineStart = 0, rows = 0, partitionStart = 0, partitionOffset = 0;
            var blank = true;
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                for (var i = 0; i < read; i++)
                {
                    var b = buffer[i];
                    if (b == (byte)'\n')
                    {
                        EndLine(position + i + 1);
                        continue;
                    }

                    blank &= b is (byte)' ' or (byte)'\t' or (byte)'\r';
                    if (position + i - lineStart >= RowSource.MaxRecordBytes)
                    {
                        throw new JobValidationException($"line {rows + 1} is longer than {RowSource.MaxRecordBytes >> 20} MiB");
                    }

                    if (rows < SampleLines)
                    {
                        line.Write([b]);
                    }
                }

                position += read;
            }

            EndLine(position);
            if (rows > partitionStart)
            {
                partitions.Add(new PartitionSpan(partitions.Count, partitionStart, rows - partitionStart, partitionOffset, position - partitionOffset));
            }

            void EndLine(long next)
            {
                if (!blank)
                {
                    if (rows - partitionStart == partitionRows)
                    {
                        partitions.Add(new PartitionSpan(partitions.Count, partitionStart, rows - partitionStart, partitionOffset, lineStart - partitionOffset));
                        partitionStart = rows;
                        partitionOffset = lineStart;
                    }

                    if (rows < SampleLines)
                    {
                        sample(Encoding.UTF8.GetString(line.WrittenSpan));
                    }

                    rows++;
                }

                line.Clear();
                lineStart = next;
                blank = true;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return partitions;
    }

    /// <summary>The non-blank lines of one partition, with their row numbers.</summary>
    public static async IAsyncEnumerable<(long Number, string Line)> ReadAsync(IJobStorage storage, string uri, PartitionSpan span, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var stream = await storage.OpenReadAsync(uri, span.ByteOffset, span.ByteLength, cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: span.ByteOffset == 0);
        var number = span.FirstRow;
        while (number < span.FirstRow + span.Rows && await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                yield return (number++, line);
            }
        }
    }
}
