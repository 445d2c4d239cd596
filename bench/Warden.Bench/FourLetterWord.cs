using System.Net.Sockets;
using System.Text;

namespace Warden.Bench;

/// <summary>Sends a four-letter word and reads the whole answer, which ends when the server closes.</summary>
public static class FourLetterWord
{
    public static async Task<string?> AskAsync(int port, string word, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync("127.0.0.1", port, cancel.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes(word), cancel.Token);
            var answer = new MemoryStream();
            var buffer = new byte[4096];
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer, cancel.Token);
                if (read == 0) break;
                answer.Write(buffer, 0, read);
                if (answer.Length > 1 << 20) break;
            }
            return Encoding.ASCII.GetString(answer.ToArray());
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return null;
        }
    }
}
