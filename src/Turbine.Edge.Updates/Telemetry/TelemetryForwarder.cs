using System.Net.Http.Headers;
using System.Text;

namespace Turbine.Edge.Updates.Telemetry;

/// <summary>
/// Sends the queue's pending records, oldest first, in batches of JSON lines (<c>application/x-ndjson</c>) to an HTTP
/// endpoint, and acknowledges a batch only on a 2xx answer; a failure leaves everything queued for the next attempt.
/// Delivery is at least once: the receiver drops records whose <c>id</c> it has seen.
/// </summary>
public sealed class TelemetryForwarder(HttpClient http, Uri endpoint, TelemetryQueue queue, int batchSize = 200)
{
    /// <summary>Sends what is pending; returns the number of records delivered.</summary>
    public async Task<int> ForwardAsync(CancellationToken cancellationToken)
    {
        var delivered = 0;
        while (queue.Pending(batchSize) is { Count: > 0 } batch)
        {
            var body = new StringBuilder();
            foreach (var record in batch)
            {
                body.Append(record.Json).Append('\n');
            }

            using var content = new StringContent(body.ToString(), Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            try
            {
                using var response = await http.PostAsync(endpoint, content, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return delivered;
                }
            }
            catch (HttpRequestException)
            {
                return delivered; // offline: try again later
            }

            queue.Acknowledge(batch[^1].Sequence);
            delivered += batch.Count;
        }

        return delivered;
    }
}
