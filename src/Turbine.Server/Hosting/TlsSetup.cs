using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Turbine.Server.Hosting;

/// <summary>
/// TLS for a listener from PEM files, and mutual TLS: with a client certificate authority configured, a client must
/// present a certificate that chains to that authority alone (the machine's trust store is not consulted).
/// </summary>
internal static class TlsSetup
{
    public static void Apply(ListenOptions listen, TlsOptions tls)
    {
        var certificate = X509Certificate2.CreateFromPemFile(tls.CertificateFile!, tls.KeyFile);
        var https = new HttpsConnectionAdapterOptions { ServerCertificate = certificate };
        if (tls.ClientCertificateAuthorityFile is { Length: > 0 } caFile)
        {
            var authority = X509Certificate2.CreateFromPem(File.ReadAllText(caFile));
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (client, _, _) => ChainsTo(client, authority);
        }

        listen.UseHttps(https);
    }

    private static bool ChainsTo(X509Certificate2 client, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // no CRL/OCSP endpoints for a private authority
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2")); // client authentication
        return chain.Build(client);
    }
}
