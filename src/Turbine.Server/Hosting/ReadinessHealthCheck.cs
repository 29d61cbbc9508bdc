using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Turbine.Server.Hosting;

/// <summary>Feeds the gRPC health service (<c>grpc.health.v1.Health</c>) from <see cref="ServerReadiness"/>.</summary>
internal sealed class ReadinessHealthCheck(ServerReadiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.IsReady ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("not ready"));
}
