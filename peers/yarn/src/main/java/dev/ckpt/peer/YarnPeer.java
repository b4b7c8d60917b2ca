package dev.ckpt.peer;

import java.io.File;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.client.deployment.ClusterSpecification;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.DeploymentOptionsInternal;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.yarn.YarnClientYarnClusterInformationRetriever;
import org.apache.flink.yarn.YarnClusterDescriptor;
import org.apache.flink.yarn.configuration.YarnConfigOptions;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

/**
 * Test equipment: a real YARN (Hadoop's MiniYARNCluster, one ResourceManager
 * with its embedded web proxy and one NodeManager) running a real Flink
 * session deployed by Flink's own YarnClusterDescriptor, with one streaming
 * job submitted to it.
 *
 * <p>Usage: YarnPeer WORKDIR. The process's HADOOP_CONF_DIR must be
 * WORKDIR/conf: the cluster's yarn-site.xml is written there before Flink is
 * deployed, and the containers YARN launches (Flink's JobManager, which
 * registers with the ResourceManager from it) inherit that variable from the
 * NodeManager. They run from this JVM's own classpath, handed to them as
 * yarn.application.classpath: no flink-dist is needed.
 *
 * <p>It compiles against Flink 2.x and 1.20 alike (pom.xml, -Pflink-1.20).
 *
 * <p>When ready it writes WORKDIR/yarn.env (CKPT_YARN_CONF_DIR, CKPT_YARN_APP_ID,
 * CKPT_YARN_JOB_ID, CKPT_YARN_RM, CKPT_YARN_JM, CKPT_YARN_FLINK: the Flink
 * version on its classpath) and runs until killed or, under
 * dev.ckpt.peer.Lifeline, until its stdin closes; its shutdown hook kills the
 * Flink application and stops YARN (which stops the containers).
 */
public final class YarnPeer {
    private YarnPeer() {}

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable t) {
            // YARN's threads would keep the JVM alive: a failed start must end it.
            t.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        Path work = Paths.get(args[0]).toAbsolutePath();
        Path conf = work.resolve("conf");
        Files.createDirectories(conf);
        Path flinkConf = work.resolve("flink-conf");
        Files.createDirectories(flinkConf);
        String cp = System.getProperty("java.class.path");

        YarnConfiguration yc = new YarnConfiguration();
        yc.set(YarnConfiguration.RM_HOSTNAME, "127.0.0.1");
        // The FIFO scheduler needs no queue configuration.
        yc.set(YarnConfiguration.RM_SCHEDULER,
                "org.apache.hadoop.yarn.server.resourcemanager.scheduler.fifo.FifoScheduler");
        yc.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 64);
        yc.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB, 4096);
        yc.setInt(YarnConfiguration.NM_PMEM_MB, 4096);
        yc.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
        yc.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
        // No disk-health veto on a nearly full CI disk.
        yc.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 99.9f);
        // conf/ first: the containers find yarn-site.xml as a resource too.
        yc.setStrings(YarnConfiguration.YARN_APPLICATION_CLASSPATH,
                (conf + File.pathSeparator + cp).split(File.pathSeparator));
        // An ApplicationMaster that loses the RM (this JVM killed) gives up
        // within seconds instead of Hadoop's 15 minutes, so its container exits.
        yc.setLong(YarnConfiguration.RESOURCEMANAGER_CONNECT_MAX_WAIT_MS, 10_000);
        yc.setLong(YarnConfiguration.RESOURCEMANAGER_CONNECT_RETRY_INTERVAL_MS, 1_000);
        yc.set("yarn.nodemanager.env-whitelist",
                "JAVA_HOME,HADOOP_COMMON_HOME,HADOOP_HDFS_HOME,HADOOP_CONF_DIR,HADOOP_YARN_HOME,HADOOP_MAPRED_HOME,PATH,LANG,TZ");
        yc.set("hadoop.tmp.dir", work.resolve("data").toString());

        MiniYARNCluster yarn = new MiniYARNCluster("ckpt-yarn-peer", 1, 1, 1);
        yarn.init(yc);
        yarn.start();
        if (!yarn.waitForNodeManagersToConnect(60_000)) {
            throw new IllegalStateException("the NodeManager did not register within 60 s");
        }
        routeWebToResourceManager(yarn);
        YarnConfiguration live = new YarnConfiguration(yarn.getConfig());
        // yarn-site.xml for YARN clients (ckpt among them); the same keys in
        // core-site.xml, which is how Flink's JobManager decides that
        // HADOOP_CONF_DIR holds a Hadoop configuration at all.
        for (String name : new String[] {"yarn-site.xml", "core-site.xml"}) {
            try (OutputStream out = new FileOutputStream(conf.resolve(name).toFile())) {
                live.writeXml(out);
            }
        }
        String rmWeb = live.get(YarnConfiguration.RM_WEBAPP_ADDRESS);
        System.err.println("yarn peer: ResourceManager web " + rmWeb + ", NodeManager up");

        YarnClient client = YarnClient.createYarnClient();
        client.init(live);
        client.start();

        Configuration fc = new Configuration();
        fc.set(DeploymentOptionsInternal.CONF_DIR, flinkConf.toString());
        fc.set(JobManagerOptions.TOTAL_PROCESS_MEMORY, MemorySize.parse("768m"));
        fc.set(TaskManagerOptions.TOTAL_PROCESS_MEMORY, MemorySize.parse("1g"));
        fc.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("64m"));
        fc.set(TaskManagerOptions.NUM_TASK_SLOTS, 1);
        fc.set(YarnConfigOptions.APPLICATION_ATTEMPTS, 1);
        fc.set(YarnConfigOptions.APPLICATION_NAME, "ckpt-yarn-peer session");
        fc.set(YarnConfigOptions.STAGING_DIRECTORY, work.resolve("staging").toUri().toString());
        String jvmOpts = System.getProperty("ckpt.container.jvm.opts", "");
        if (!jvmOpts.isEmpty()) {
            fc.set(CoreOptions.FLINK_JVM_OPTIONS, jvmOpts);
        }
        // The JobManager's own YARN client (registering the ApplicationMaster,
        // asking for TaskManagers) gets the RM's addresses through Flink's
        // flink.yarn.* pass-through, whatever its environment says.
        for (java.util.Map.Entry<String, String> e : live) {
            if (e.getKey().startsWith("yarn.resourcemanager.")) {
                fc.setString("flink.yarn." + e.getKey(), live.get(e.getKey()));
            }
        }
        fc.setString("taskmanager.registration.timeout", "30 s");

        YarnClusterDescriptor descriptor = new YarnClusterDescriptor(
                fc, live, client, YarnClientYarnClusterInformationRetriever.create(client), true);
        ClusterSpecification spec = new ClusterSpecification.ClusterSpecificationBuilder()
                .setMasterMemoryMB(768).setTaskManagerMemoryMB(1024).setSlotsPerTaskManager(1)
                .createClusterSpecification();
        ClusterClient<ApplicationId> session = descriptor.deploySessionCluster(spec).getClusterClient();
        ApplicationId app = session.getClusterId();
        System.err.println("yarn peer: Flink session " + app + " at " + session.getWebInterfaceURL());

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                descriptor.killCluster(app);
            } catch (Throwable t) {
                System.err.println("yarn peer: killing " + app + ": " + t);
            }
            try {
                yarn.stop();
            } catch (Throwable t) {
                System.err.println("yarn peer: stopping YARN: " + t);
            }
        }, "ckpt-yarn-peer-stop"));

        // One unbounded job, slow enough to idle: something to list and to
        // take a savepoint of.
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.fromSequence(0, Long.MAX_VALUE).uid("numbers")
                .map(YarnPeer::slow).returns(Types.LONG).uid("slow")
                .sinkTo(new DiscardingSink<>()).uid("discard");
        org.apache.flink.streaming.api.graph.StreamGraph graph = env.getStreamGraph();
        graph.setJobName("ckpt-yarn-peer job");
        JobID job = session.submitJob(graph.getJobGraph()).get(120, TimeUnit.SECONDS);
        System.err.println("yarn peer: job " + job + " submitted");
        // Ready means its tasks run (a TaskManager container is up): a
        // savepoint can be taken at once.
        org.apache.flink.client.program.rest.RestClusterClient<?> rest =
                (org.apache.flink.client.program.rest.RestClusterClient<?>) session;
        long deadline = System.currentTimeMillis() + 120_000;
        while (true) {
            java.util.Collection<org.apache.flink.runtime.rest.messages.job.JobDetailsInfo.JobVertexDetailsInfo> vs =
                    rest.getJobDetails(job).get(10, TimeUnit.SECONDS).getJobVertexInfos();
            boolean running = !vs.isEmpty() && vs.stream()
                    .allMatch(v -> v.getTasksPerState().getOrDefault(
                            org.apache.flink.runtime.execution.ExecutionState.RUNNING, 0) == v.getParallelism());
            if (running) {
                System.err.println("yarn peer: the job's tasks are RUNNING");
                break;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("the tasks of job " + job + " are not RUNNING after 120 s");
            }
            Thread.sleep(250);
        }

        String envFile = "CKPT_YARN_CONF_DIR=" + conf + "\n"
                + "CKPT_YARN_APP_ID=" + app + "\n"
                + "CKPT_YARN_JOB_ID=" + job + "\n"
                + "CKPT_YARN_RM=" + rmWeb + "\n"
                + "CKPT_YARN_JM=" + session.getWebInterfaceURL() + "\n"
                + "CKPT_YARN_FLINK=" + org.apache.flink.runtime.util.EnvironmentInformation.getVersion() + "\n";
        Path tmp = work.resolve("yarn.env.tmp");
        Files.write(tmp, envFile.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, work.resolve("yarn.env"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Thread.currentThread().join(); // until killed or the lifeline ends
    }

    /**
     * The ResourceManager's and the NodeManager's web apps share this JVM,
     * and Guice's servlet filter keeps one static pipeline: the NodeManager's,
     * started last, would answer every /ws/v1/cluster/... call of the RM with
     * 404. Point it back at the ResourceManager's (its REST API is what ckpt
     * reads; the NodeManager's web pages are not needed).
     */
    private static void routeWebToResourceManager(MiniYARNCluster yarn) throws Exception {
        Object rm = yarn.getResourceManager();
        java.lang.reflect.Field webApp = org.apache.hadoop.yarn.server.resourcemanager.ResourceManager.class
                .getDeclaredField("webApp");
        webApp.setAccessible(true);
        Object app = webApp.get(rm);
        java.lang.reflect.Field filter = org.apache.hadoop.yarn.webapp.WebApp.class.getDeclaredField("guiceFilter");
        filter.setAccessible(true);
        Object guice = filter.get(app);
        Class<?> gf = guice.getClass();
        java.lang.reflect.Field injected = gf.getDeclaredField("injectedPipeline");
        injected.setAccessible(true);
        java.lang.reflect.Field pipeline = gf.getDeclaredField("pipeline");
        pipeline.setAccessible(true);
        pipeline.set(null, injected.get(guice));
    }

    private static Long slow(Long x) throws InterruptedException {
        Thread.sleep(20);
        return x;
    }
}
