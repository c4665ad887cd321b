FROM continuumio/miniconda3

WORKDIR /opt/project
COPY environment.yml .
RUN conda env create -f environment.yml && conda clean -afy

SHELL ["conda", "run", "--no-capture-output", "-n", "project", "/bin/bash", "-c"]
RUN pip install jupyterlab==4.1.5

COPY notebooks/ ./notebooks/
EXPOSE 8888
ENTRYPOINT ["conda", "run", "--no-capture-output", "-n", "project"]
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--allow-root"]
