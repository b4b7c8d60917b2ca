package dev.ckpt.peer;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Runs another main class (the MiniDFSCluster manager) and ends this JVM when
 * its stdin reaches end of file.
 *
 * <p>Why: the process that starts the peer (a Go test binary, or
 * peers/with-hdfs.sh) holds the only write end of a pipe that is this JVM's
 * stdin. When that process ends in any way — normal exit, a test timeout,
 * SIGKILL of it or of its whole process group — the kernel closes the write
 * end and this JVM sees EOF and exits. A watchdog process can itself be killed
 * with the test binary (it used to share its process group); a closed pipe
 * cannot be missed.
 */
public final class Lifeline {
    private Lifeline() {}

    public static void main(String[] args) throws Throwable {
        if (args.length == 0) {
            System.err.println("usage: dev.ckpt.peer.Lifeline MAINCLASS [ARGS...]  (stdin: the lifeline pipe)");
            System.exit(2);
        }
        Thread watcher = new Thread(Lifeline::watch, "ckpt-lifeline");
        watcher.setDaemon(true);
        watcher.start();
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static void watch() {
        InputStream in = System.in;
        byte[] buf = new byte[256];
        try {
            while (in.read(buf) >= 0) {
                // Nothing is ever written; the pipe only has to stay open.
            }
        } catch (IOException e) {
            // A broken pipe means the same as EOF: the starter is gone.
        }
        System.err.println("ckpt lifeline: stdin closed, the process that started this peer is gone; exiting");
        // System.exit runs shutdown hooks; should one hang, halt anyway.
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(15_000);
            } catch (InterruptedException ignored) {
                // exit below regardless
            }
            Runtime.getRuntime().halt(1);
        }, "ckpt-lifeline-halt");
        halt.setDaemon(true);
        halt.start();
        System.exit(0);
    }
}
