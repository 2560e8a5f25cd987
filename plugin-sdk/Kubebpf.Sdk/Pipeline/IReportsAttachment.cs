namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// Optional capability of a probe: says when its programs are attached. The host reports the agent ready
/// (<c>Agent:HealthDirectory</c>) only once every such probe has attached and while none has failed, so that a probe
/// the kernel or a seccomp profile refuses fails readiness instead of looking healthy.
/// </summary>
public interface IReportsAttachment
{
    /// <summary>
    /// Completes once the probe observes (its programs loaded and attached); stays incomplete when
    /// <see cref="IProbe.RunAsync"/> fails first. Read by the host after it called <see cref="IProbe.RunAsync"/>, from any thread.
    /// </summary>
    Task Attached { get; }
}
