"""The kubeadm configuration API types, written down as data.

Field names, nesting and types are taken from the Go types that define the documented API:

* ``kubeadm.k8s.io/v1beta3`` and ``v1beta4``: ``cmd/kubeadm/app/apis/kubeadm/v1beta{3,4}/
  types.go`` (InitConfiguration, ClusterConfiguration, JoinConfiguration), with
  ``bootstraptoken/v1.BootstrapToken`` and ``core/v1.Taint``/``EnvVar``;
* ``kubelet.config.k8s.io/v1beta1`` KubeletConfiguration: ``staging/src/k8s.io/kubelet/config/
  v1beta1/types.go`` (top-level fields; authentication, authorization and a few small
  structures are described, large opaque ones such as ``logging`` and ``tracing`` are not);
* ``kubeproxy.config.k8s.io/v1alpha1`` KubeProxyConfiguration: ``staging/src/k8s.io/
  kube-proxy/config/v1alpha1/types.go``.

Kubelet and kube-proxy fields are the union over Kubernetes 1.23 and later (a field added in a
later release is accepted for every release; kubeadm's own strict decoding then has the last
word). ``int32``/``int64`` are integers, ``metav1.Duration`` is a Go duration string such as
``"4m0s"``, ``metav1.Time`` an RFC 3339 string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "ANY",
    "BOOL",
    "DURATION",
    "FLOAT",
    "INT",
    "KUBEADM_V1BETA3",
    "KUBEADM_V1BETA4",
    "KUBELET_CONFIGURATION",
    "KUBE_PROXY_CONFIGURATION",
    "QUANTITY",
    "STRING",
    "TIME",
    "Enum",
    "ListOf",
    "MapOf",
    "Scalar",
    "Struct",
    "Type",
]


@dataclass(frozen=True)
class Scalar:
    kind: str  # "string", "integer", "boolean", "number", "duration", "time", "quantity", "any"


@dataclass(frozen=True)
class Enum:
    values: tuple[str, ...]


@dataclass(frozen=True)
class ListOf:
    item: Type


@dataclass(frozen=True)
class MapOf:
    """A mapping with free string keys."""

    value: Type


@dataclass(frozen=True)
class Struct:
    name: str
    fields: Mapping[str, Type] = field(default_factory=dict)


Type = Scalar | Enum | ListOf | MapOf | Struct

STRING = Scalar("string")
INT = Scalar("integer")
BOOL = Scalar("boolean")
FLOAT = Scalar("number")
DURATION = Scalar("duration")
TIME = Scalar("time")
QUANTITY = Scalar("quantity")  # resource.Quantity: "100Mi" or a number
ANY = Scalar("any")


def _struct(struct_name: str, /, **fields: Type) -> Struct:
    return Struct(struct_name, MappingProxyType(dict(fields)))


def _with(base: Struct, struct_name: str, /, **changes: Type | None) -> Struct:
    """A copy of ``base`` with fields added, replaced, or removed (``None``)."""
    merged: dict[str, Type] = dict(base.fields)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return Struct(struct_name, MappingProxyType(merged))


_STRINGS = ListOf(STRING)
_STRING_MAP = MapOf(STRING)
_TYPE_META = {"apiVersion": STRING, "kind": STRING}

# --- shared core types -------------------------------------------------------------------

TAINT = _struct(
    "Taint",
    key=STRING,
    value=STRING,
    effect=Enum(("NoSchedule", "PreferNoSchedule", "NoExecute")),
    timeAdded=TIME,
)
ENV_VAR = _struct("EnvVar", name=STRING, value=STRING, valueFrom=ANY)
ARG = _struct("Arg", name=STRING, value=STRING)
_PULL_POLICY = Enum(("Always", "IfNotPresent", "Never"))
_BOOTSTRAP_TOKEN = _struct(
    "BootstrapToken",
    token=STRING,
    description=STRING,
    ttl=DURATION,
    expires=TIME,
    usages=_STRINGS,
    groups=_STRINGS,
)
_API_ENDPOINT = _struct("APIEndpoint", advertiseAddress=STRING, bindPort=INT)
_PATCHES = _struct("Patches", directory=STRING)
_HOST_PATH_MOUNT = _struct(
    "HostPathMount",
    name=STRING,
    hostPath=STRING,
    mountPath=STRING,
    readOnly=BOOL,
    pathType=STRING,
)
_NETWORKING = _struct("Networking", serviceSubnet=STRING, podSubnet=STRING, dnsDomain=STRING)
_EXTERNAL_ETCD = _struct(
    "ExternalEtcd", endpoints=_STRINGS, caFile=STRING, certFile=STRING, keyFile=STRING
)
_BOOTSTRAP_TOKEN_DISCOVERY = _struct(
    "BootstrapTokenDiscovery",
    token=STRING,
    apiServerEndpoint=STRING,
    caCertHashes=_STRINGS,
    unsafeSkipCAVerification=BOOL,
)
_FILE_DISCOVERY = _struct("FileDiscovery", kubeConfigPath=STRING)

# --- kubeadm.k8s.io/v1beta3 (Kubernetes 1.22 - ) ------------------------------------------

_V3_COMPONENT = _struct(
    "ControlPlaneComponent", extraArgs=_STRING_MAP, extraVolumes=ListOf(_HOST_PATH_MOUNT)
)
_V3_API_SERVER = _with(
    _V3_COMPONENT, "APIServer", certSANs=_STRINGS, timeoutForControlPlane=DURATION
)
_V3_NODE_REGISTRATION = _struct(
    "NodeRegistrationOptions",
    name=STRING,
    criSocket=STRING,
    taints=ListOf(TAINT),
    kubeletExtraArgs=_STRING_MAP,
    ignorePreflightErrors=_STRINGS,
    imagePullPolicy=_PULL_POLICY,
)
_V3_LOCAL_ETCD = _struct(
    "LocalEtcd",
    imageRepository=STRING,
    imageTag=STRING,
    dataDir=STRING,
    extraArgs=_STRING_MAP,
    serverCertSANs=_STRINGS,
    peerCertSANs=_STRINGS,
)
_V3_DISCOVERY = _struct(
    "Discovery",
    bootstrapToken=_BOOTSTRAP_TOKEN_DISCOVERY,
    file=_FILE_DISCOVERY,
    tlsBootstrapToken=STRING,
    timeout=DURATION,
)
_V3_JOIN_CONTROL_PLANE = _struct(
    "JoinControlPlane", localAPIEndpoint=_API_ENDPOINT, certificateKey=STRING
)

KUBEADM_V1BETA3: Mapping[str, Struct] = MappingProxyType(
    {
        "InitConfiguration": _struct(
            "InitConfiguration",
            **_TYPE_META,
            bootstrapTokens=ListOf(_BOOTSTRAP_TOKEN),
            nodeRegistration=_V3_NODE_REGISTRATION,
            localAPIEndpoint=_API_ENDPOINT,
            certificateKey=STRING,
            skipPhases=_STRINGS,
            patches=_PATCHES,
        ),
        "ClusterConfiguration": _struct(
            "ClusterConfiguration",
            **_TYPE_META,
            etcd=_struct("Etcd", local=_V3_LOCAL_ETCD, external=_EXTERNAL_ETCD),
            networking=_NETWORKING,
            kubernetesVersion=STRING,
            controlPlaneEndpoint=STRING,
            apiServer=_V3_API_SERVER,
            controllerManager=_V3_COMPONENT,
            scheduler=_V3_COMPONENT,
            dns=_struct("DNS", imageRepository=STRING, imageTag=STRING),
            certificatesDir=STRING,
            imageRepository=STRING,
            featureGates=MapOf(BOOL),
            clusterName=STRING,
        ),
        "JoinConfiguration": _struct(
            "JoinConfiguration",
            **_TYPE_META,
            nodeRegistration=_V3_NODE_REGISTRATION,
            caCertPath=STRING,
            discovery=_V3_DISCOVERY,
            controlPlane=_V3_JOIN_CONTROL_PLANE,
            skipPhases=_STRINGS,
            patches=_PATCHES,
        ),
    }
)

# --- kubeadm.k8s.io/v1beta4 (Kubernetes 1.31 - ) ------------------------------------------
# extraArgs and kubeletExtraArgs become lists of {name, value}; extraEnvs is new;
# apiServer.timeoutForControlPlane and discovery.timeout move to the new `timeouts`;
# dryRun, dns.disabled, proxy.disabled, encryptionAlgorithm, (ca)certificateValidityPeriod
# and nodeRegistration.imagePullSerial are new.

_TIMEOUTS = _struct(
    "Timeouts",
    controlPlaneComponentHealthCheck=DURATION,
    kubeletHealthCheck=DURATION,
    kubernetesAPICall=DURATION,
    etcdAPICall=DURATION,
    tlsBootstrap=DURATION,
    discovery=DURATION,
    upgradeManifests=DURATION,
)
_V4_COMPONENT = _struct(
    "ControlPlaneComponent",
    extraArgs=ListOf(ARG),
    extraVolumes=ListOf(_HOST_PATH_MOUNT),
    extraEnvs=ListOf(ENV_VAR),
)
_V4_API_SERVER = _with(_V4_COMPONENT, "APIServer", certSANs=_STRINGS)
_V4_NODE_REGISTRATION = _with(
    _V3_NODE_REGISTRATION,
    "NodeRegistrationOptions",
    kubeletExtraArgs=ListOf(ARG),
    imagePullSerial=BOOL,
)
_V4_LOCAL_ETCD = _with(
    _V3_LOCAL_ETCD, "LocalEtcd", extraArgs=ListOf(ARG), extraEnvs=ListOf(ENV_VAR)
)
_V4_DISCOVERY = _with(_V3_DISCOVERY, "Discovery", timeout=None)
ENCRYPTION_ALGORITHMS = ("RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256")

KUBEADM_V1BETA4: Mapping[str, Struct] = MappingProxyType(
    {
        "InitConfiguration": _with(
            KUBEADM_V1BETA3["InitConfiguration"],
            "InitConfiguration",
            dryRun=BOOL,
            nodeRegistration=_V4_NODE_REGISTRATION,
            timeouts=_TIMEOUTS,
        ),
        "ClusterConfiguration": _with(
            KUBEADM_V1BETA3["ClusterConfiguration"],
            "ClusterConfiguration",
            etcd=_struct("Etcd", local=_V4_LOCAL_ETCD, external=_EXTERNAL_ETCD),
            apiServer=_V4_API_SERVER,
            controllerManager=_V4_COMPONENT,
            scheduler=_V4_COMPONENT,
            dns=_struct("DNS", imageRepository=STRING, imageTag=STRING, disabled=BOOL),
            proxy=_struct("Proxy", disabled=BOOL),
            encryptionAlgorithm=Enum(ENCRYPTION_ALGORITHMS),
            certificateValidityPeriod=DURATION,
            caCertificateValidityPeriod=DURATION,
        ),
        "JoinConfiguration": _with(
            KUBEADM_V1BETA3["JoinConfiguration"],
            "JoinConfiguration",
            dryRun=BOOL,
            nodeRegistration=_V4_NODE_REGISTRATION,
            discovery=_V4_DISCOVERY,
            timeouts=_TIMEOUTS,
        ),
    }
)

# --- kubelet.config.k8s.io/v1beta1 KubeletConfiguration -----------------------------------

KUBELET_CONFIGURATION = _struct(
    "KubeletConfiguration",
    **_TYPE_META,
    enableServer=BOOL,
    staticPodPath=STRING,
    podLogsDir=STRING,
    syncFrequency=DURATION,
    fileCheckFrequency=DURATION,
    httpCheckFrequency=DURATION,
    staticPodURL=STRING,
    staticPodURLHeader=MapOf(_STRINGS),
    address=STRING,
    port=INT,
    readOnlyPort=INT,
    tlsCertFile=STRING,
    tlsPrivateKeyFile=STRING,
    tlsCipherSuites=_STRINGS,
    tlsCurvePreferences=ListOf(INT),
    tlsMinVersion=STRING,
    rotateCertificates=BOOL,
    serverTLSBootstrap=BOOL,
    authentication=_struct(
        "KubeletAuthentication",
        x509=_struct("KubeletX509Authentication", clientCAFile=STRING),
        webhook=_struct("KubeletWebhookAuthentication", enabled=BOOL, cacheTTL=DURATION),
        anonymous=_struct("KubeletAnonymousAuthentication", enabled=BOOL),
    ),
    authorization=_struct(
        "KubeletAuthorization",
        mode=Enum(("AlwaysAllow", "Webhook")),
        webhook=_struct(
            "KubeletWebhookAuthorization",
            cacheAuthorizedTTL=DURATION,
            cacheUnauthorizedTTL=DURATION,
        ),
    ),
    registryPullQPS=INT,
    registryBurst=INT,
    imagePullCredentialsVerificationPolicy=STRING,
    preloadedImagesVerificationAllowlist=_STRINGS,
    eventRecordQPS=INT,
    eventBurst=INT,
    enableDebuggingHandlers=BOOL,
    enableContentionProfiling=BOOL,
    healthzPort=INT,
    healthzBindAddress=STRING,
    oomScoreAdj=INT,
    clusterDomain=STRING,
    clusterDNS=_STRINGS,
    streamingConnectionIdleTimeout=DURATION,
    nodeStatusUpdateFrequency=DURATION,
    nodeStatusReportFrequency=DURATION,
    nodeLeaseDurationSeconds=INT,
    imageMinimumGCAge=DURATION,
    imageMaximumGCAge=DURATION,
    imageGCHighThresholdPercent=INT,
    imageGCLowThresholdPercent=INT,
    volumeStatsAggPeriod=DURATION,
    kubeletCgroups=STRING,
    systemCgroups=STRING,
    cgroupRoot=STRING,
    cgroupsPerQOS=BOOL,
    cgroupDriver=Enum(("cgroupfs", "systemd")),
    cpuManagerPolicy=STRING,
    singleProcessOOMKill=BOOL,
    cpuManagerPolicyOptions=_STRING_MAP,
    cpuManagerReconcilePeriod=DURATION,
    draManagerReconcilePeriod=DURATION,
    memoryManagerPolicy=STRING,
    topologyManagerPolicy=STRING,
    topologyManagerScope=STRING,
    topologyManagerPolicyOptions=_STRING_MAP,
    qosReserved=_STRING_MAP,
    runtimeRequestTimeout=DURATION,
    hairpinMode=STRING,
    maxPods=INT,
    podCIDR=STRING,
    podPidsLimit=INT,
    resolvConf=STRING,
    runOnce=BOOL,
    cpuCFSQuota=BOOL,
    cpuCFSQuotaPeriod=DURATION,
    nodeStatusMaxImages=INT,
    maxOpenFiles=INT,
    contentType=STRING,
    kubeAPIQPS=INT,
    kubeAPIBurst=INT,
    serializeImagePulls=BOOL,
    maxParallelImagePulls=INT,
    evictionHard=_STRING_MAP,
    evictionSoft=_STRING_MAP,
    evictionSoftGracePeriod=_STRING_MAP,
    evictionPressureTransitionPeriod=DURATION,
    evictionMaxPodGracePeriod=INT,
    evictionMinimumReclaim=_STRING_MAP,
    mergeDefaultEvictionSettings=BOOL,
    podsPerCore=INT,
    enableControllerAttachDetach=BOOL,
    protectKernelDefaults=BOOL,
    makeIPTablesUtilChains=BOOL,
    iptablesMasqueradeBit=INT,
    iptablesDropBit=INT,
    featureGates=MapOf(BOOL),
    failSwapOn=BOOL,
    memorySwap=_struct("MemorySwapConfiguration", swapBehavior=STRING),
    containerLogMaxSize=STRING,
    containerLogMaxFiles=INT,
    containerLogMaxWorkers=INT,
    containerLogMonitorInterval=DURATION,
    configMapAndSecretChangeDetectionStrategy=Enum(("Get", "Cache", "Watch")),
    systemReserved=_STRING_MAP,
    kubeReserved=_STRING_MAP,
    reservedSystemCPUs=STRING,
    showHiddenMetricsForVersion=STRING,
    systemReservedCgroup=STRING,
    kubeReservedCgroup=STRING,
    enforceNodeAllocatable=_STRINGS,
    allowedUnsafeSysctls=_STRINGS,
    volumePluginDir=STRING,
    providerID=STRING,
    kernelMemcgNotification=BOOL,
    logging=ANY,
    enableSystemLogHandler=BOOL,
    enableSystemLogQuery=BOOL,
    shutdownGracePeriod=DURATION,
    shutdownGracePeriodCriticalPods=DURATION,
    shutdownGracePeriodByPodPriority=ListOf(
        _struct("ShutdownGracePeriodByPodPriority", priority=INT, shutdownGracePeriodSeconds=INT)
    ),
    crashLoopBackOff=_struct("CrashLoopBackOffConfig", maxContainerRestartPeriod=DURATION),
    reservedMemory=ListOf(_struct("MemoryReservation", numaNode=INT, limits=MapOf(QUANTITY))),
    enableProfilingHandler=BOOL,
    enableDebugFlagsHandler=BOOL,
    seccompDefault=BOOL,
    memoryThrottlingFactor=FLOAT,
    memoryReservationPolicy=STRING,
    registerWithTaints=ListOf(TAINT),
    registerNode=BOOL,
    tracing=ANY,
    localStorageCapacityIsolation=BOOL,
    containerRuntimeEndpoint=STRING,
    imageServiceEndpoint=STRING,
    failCgroupV1=BOOL,
    userNamespaces=_struct("UserNamespaces", idsPerPod=INT),
)

# --- kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration ------------------------------

KUBE_PROXY_CONFIGURATION = _struct(
    "KubeProxyConfiguration",
    **_TYPE_META,
    featureGates=MapOf(BOOL),
    clientConnection=_struct(
        "ClientConnectionConfiguration",
        kubeconfig=STRING,
        acceptContentTypes=STRING,
        contentType=STRING,
        qps=FLOAT,
        burst=INT,
    ),
    logging=ANY,
    hostnameOverride=STRING,
    bindAddress=STRING,
    healthzBindAddress=STRING,
    metricsBindAddress=STRING,
    bindAddressHardFail=BOOL,
    enableProfiling=BOOL,
    showHiddenMetricsForVersion=STRING,
    mode=Enum(("", "iptables", "ipvs", "nftables", "kernelspace")),
    iptables=_struct(
        "KubeProxyIPTablesConfiguration",
        masqueradeBit=INT,
        masqueradeAll=BOOL,
        localhostNodePorts=BOOL,
        snatNodeInternalIP=BOOL,
        syncPeriod=DURATION,
        minSyncPeriod=DURATION,
    ),
    ipvs=_struct(
        "KubeProxyIPVSConfiguration",
        syncPeriod=DURATION,
        minSyncPeriod=DURATION,
        scheduler=STRING,
        excludeCIDRs=_STRINGS,
        strictARP=BOOL,
        tcpTimeout=DURATION,
        tcpFinTimeout=DURATION,
        udpTimeout=DURATION,
    ),
    nftables=_struct(
        "KubeProxyNFTablesConfiguration",
        masqueradeBit=INT,
        masqueradeAll=BOOL,
        syncPeriod=DURATION,
        minSyncPeriod=DURATION,
    ),
    winkernel=_struct(
        "KubeProxyWinkernelConfiguration",
        networkName=STRING,
        sourceVip=STRING,
        enableDSR=BOOL,
        rootHnsEndpointName=STRING,
        forwardHealthCheckVip=BOOL,
    ),
    detectLocalMode=STRING,
    detectLocal=_struct(
        "DetectLocalConfiguration", bridgeInterface=STRING, interfaceNamePrefix=STRING
    ),
    clusterCIDR=STRING,
    nodePortAddresses=_STRINGS,
    oomScoreAdj=INT,
    conntrack=_struct(
        "KubeProxyConntrackConfiguration",
        maxPerCore=INT,
        min=INT,
        tcpEstablishedTimeout=DURATION,
        tcpCloseWaitTimeout=DURATION,
        tcpBeLiberal=BOOL,
        udpTimeout=DURATION,
        udpStreamTimeout=DURATION,
    ),
    configSyncPeriod=DURATION,
    portRange=STRING,
    udpIdleTimeout=DURATION,
    windowsRunAsService=BOOL,
)
