"""ament_python build of gan_compress_ros (colcon build, or pip install for development)."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "gan_compress_ros"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    package_data={PACKAGE: ["weights/*.safetensors", "weights/*.md", "weights/onnx/README.md",
                            "weights/onnx/*/*.onnx", "weights/onnx/*/codec.json",
                            "weights/onnx/*/entropy.safetensors",
                            "data/README.md", "data/sample_clip/*.jpg", "data/general/*.jpg",
                            "data/general/SOURCES.md",
                            "data/fastdds_large_frames.xml"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*")),
        (f"share/{PACKAGE}/config", glob("config/*")),
        (f"share/{PACKAGE}/weights", glob(f"{PACKAGE}/weights/*.safetensors")
         + glob(f"{PACKAGE}/weights/*.md")),
    ],
    python_requires=">=3.10",
    # The core runs the codec on the onnxruntime backend without torch (a Jetson deployment);
    # the extras add a backend, training and export.
    install_requires=[
        "numpy",
        # one BLAS thread for the context network's small integer products (context_coding)
        "threadpoolctl",
        # The bitstream depends on its range coder: keep pinned. It has no Linux aarch64
        # wheel (Jetson): there codec/rangecoder_py.py writes the same bytes instead.
        "constriction==0.5.0; platform_machine != 'aarch64'",
        "safetensors>=0.4",
        "opencv-python-headless",
        "tqdm",
    ],
    extras_require={
        # torch backend, training, evaluation. Install torch==2.13.0 first (see Makefile):
        # never let pip pick one.
        "torch": ["torch>=2.1", "pytorch-msssim"],
        # onnxruntime backend. On a Jetson install JetPack's onnxruntime-gpu instead (README).
        "onnxruntime": ["onnxruntime>=1.16"],
        "export": ["torch>=2.1", "onnx>=1.16", "onnxscript>=0.3"],  # gan-compress-export
        # pictures: training plots, RD plots, sample grids, the demo's GIF, AVIF anchors
        "plots": ["matplotlib", "pillow>=11"],
        # gan-compress-eval's AV1 and HEVC intra anchors (SVT-AV1, x265, dav1d in the wheel)
        "eval": ["av>=14"],
        # gan-compress-bag, and rosbags as training data (ROS 1 .bag, rosbag2 .mcap/.db3)
        "bags": ["rosbags"],
        # gan-compress-link over a serial radio
        "link": ["pyserial"],
        "ros": ["ros-rclpy[fastrtps]", "ros-sensor-msgs", "ros-std-msgs",
                "ros-diagnostic-msgs"],
        "test": ["pytest", "hypothesis", "ruff", "mypy", "colcon-core", "colcon-ros",
                 "rosbags-image",  # the reference the image converter is checked against
                 "ros-ament-package",
                 # coverage-guided fuzzing of the decoder (gan-compress-fuzz --engine atheris)
                 "atheris; platform_machine == 'x86_64' and python_version < '3.13'"],
    },
    zip_safe=True,
    maintainer="gan_compress_ros maintainers",
    maintainer_email="maintainers@gan-compress-ros.invalid",
    description="GAN-trained neural image codec for low-bandwidth ROS 2 image streams",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "gan-compress-train = gan_compress_ros.tools.train:main",
            "gan-compress-eval = gan_compress_ros.tools.eval:main",
            "encoder_node = gan_compress_ros.nodes.encoder_node:main",
            "decoder_node = gan_compress_ros.nodes.decoder_node:main",
            "camera_source = gan_compress_ros.nodes.camera_source:main",
            "gan-compress-demo = gan_compress_ros.tools.demo:main",
            "gan-compress-bag = gan_compress_ros.tools.bag:main",
            "gan-compress-link = gan_compress_ros.tools.link:main",
            "link_send = gan_compress_ros.nodes.link_send:main",
            "link_receive = gan_compress_ros.nodes.link_receive:main",
            "gan-compress-bench = gan_compress_ros.tools.bench:main",
            "gan-compress-fuzz = gan_compress_ros.tools.fuzz:main",
            "gan-compress-export = gan_compress_ros.tools.export:main",
            "gan-compress-fit-temporal = gan_compress_ros.tools.fit_temporal:main",
            "gan-compress-ablation = gan_compress_ros.tools.ablation:main",
        ],
    },
)
